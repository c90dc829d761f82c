/**
 * Airlock's CrossGuard policy pack: `pulumi preview --policy-pack policy` fails a stack that breaks any of
 * Airlock's invariants (see `rules.ts`).
 */
import { PolicyPack } from "@pulumi/policy";
import { RULES } from "./rules.ts";

new PolicyPack("airlock", {
  policies: RULES.map((rule) => ({
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory" as const,
    validateStack: (args, reportViolation) => {
      const resources = args.resources.map((r) => ({
        type: r.type,
        name: r.name,
        inputs: r.props as Record<string, unknown>,
      }));
      for (const violation of rule.check(resources)) reportViolation(violation);
    },
  })),
});
