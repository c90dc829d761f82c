// @ts-check
/**
 * Airlock's CrossGuard policy pack: `pulumi preview --policy-pack policy` fails a stack that breaks any of
 * Airlock's invariants (see `rules.js`). Each rule is a stack policy: it sees every resource's outputs, its URN
 * and the resources each property was built from.
 */

const { PolicyPack } = require("@pulumi/policy");
const { RULES } = require("./rules.js");

new PolicyPack("airlock", {
  policies: RULES.map((rule) => ({
    name: rule.name,
    description: rule.description,
    enforcementLevel: /** @type {const} */ ("mandatory"),
    /** @type {import("@pulumi/policy").StackValidation} */
    validateStack: (args, reportViolation) => {
      const resources = args.resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: r.props,
        propertyDependencies: Object.fromEntries(
          Object.entries(r.propertyDependencies).map(([key, deps]) => [key, deps.map((d) => d.urn)]),
        ),
      }));
      for (const violation of rule.check(resources)) reportViolation(violation);
    },
  })),
});
