/** The optional clamav service under mocks: Fargate behind an internal NLB, reached only by the scan function. */
import { beforeAll, describe, expect, it } from "vitest";
import { HANDLER_ENV, OPTIONAL_HANDLER_ENV } from "../../core/runtime/env.ts";
import { RULES, statementsOf, TYPES, violations } from "../../policy/rules.js";
import { type Recorded, runProgram } from "./harness.ts";

let resources: Recorded[];
let outputs: Record<string, unknown>;

beforeAll(async () => {
  ({ resources, outputs } = await runProgram({
    clamav: true,
    scanVpcId: "vpc-0a1b2c",
    scanSubnetIds: ["subnet-a", "subnet-b"],
    clamdStreamMaxBytes: 52428800,
    clamavDesiredCount: 2,
  }));
}, 60_000);

const ofType = (type: string) => resources.filter((r) => r.type === type);
const named = (type: string, name: string) => {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
};
const sg = (name: string) => named("aws:ec2/securityGroup:SecurityGroup", `airlock-clamav-${name}`).id;
const variablesOf = (fn: Recorded) =>
  (fn.inputs.environment as { variables: Record<string, string> }).variables;
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const SG = "aws:ec2/securityGroup:SecurityGroup";

describe("Component: Clamav", () => {
  it("is built from plain resources: cluster, task, service, internal NLB, listener, log group", () => {
    expect(ofType("airlock:clamav:Clamav")).toHaveLength(1);
    expect(named("aws:lb/loadBalancer:LoadBalancer", "airlock-clamav-nlb").inputs).toMatchObject({
      internal: true,
      loadBalancerType: "network",
      subnets: ["subnet-a", "subnet-b"],
      securityGroups: [sg("nlb-sg")],
    });
    expect(named("aws:lb/listener:Listener", "airlock-clamav-listener").inputs).toMatchObject({
      port: 3310,
      protocol: "TCP",
    });
    expect(named("aws:ecs/service:Service", "airlock-clamav-service").inputs).toMatchObject({
      launchType: "FARGATE",
      desiredCount: 2,
      networkConfiguration: { subnets: ["subnet-a", "subnet-b"], securityGroups: [sg("task-sg")] },
      loadBalancers: [{ containerName: "clamd", containerPort: 3310 }],
    });
    expect(named(TYPES.logGroup, "airlock-clamav-logs").inputs.retentionInDays).toBe(14);
  });

  it("runs the official image with clamd's limits matched to the scan function", () => {
    const task = named("aws:ecs/taskDefinition:TaskDefinition", "airlock-clamav-task");
    expect(task.inputs).toMatchObject({ requiresCompatibilities: ["FARGATE"], networkMode: "awsvpc" });
    const [container] = JSON.parse(String(task.inputs.containerDefinitions)) as {
      image: string;
      command: string[];
    }[];
    expect(container?.image).toMatch(/^clamav\/clamav:/);
    const startup = container?.command.join(" ") ?? "";
    for (const line of [
      "StreamMaxLength 52428800",
      "MaxFileSize 52428800",
      "AlertExceedsMax yes",
      "AlertEncrypted yes",
      "exec /init",
    ])
      expect(startup).toContain(line);
    expect(variablesOf(named(TYPES.fn, "airlock-scan")).AIRLOCK_CLAMD_STREAM_MAX_BYTES).toBe("52428800");
  });

  it("puts the scan function in the VPC with the client group and points it at the balancer", () => {
    const scan = named(TYPES.fn, "airlock-scan");
    expect(scan.inputs.vpcConfig).toEqual({
      subnetIds: ["subnet-a", "subnet-b"],
      securityGroupIds: [sg("client-sg")],
    });
    const variables = variablesOf(scan);
    expect(variables.AIRLOCK_CLAMD_ENDPOINT).toBe(
      `tcp://${named("aws:lb/loadBalancer:LoadBalancer", "airlock-clamav-nlb").state.dnsName}:3310`,
    );
    expect(outputs.clamdEndpoint).toBe(variables.AIRLOCK_CLAMD_ENDPOINT);
    expect(
      Object.keys(variables)
        .filter((k) => k.startsWith("AIRLOCK_"))
        .sort(),
    ).toEqual(
      [
        ...HANDLER_ENV.scan,
        ...OPTIONAL_HANDLER_ENV.scan.filter((k) => k.startsWith("AIRLOCK_CLAMD_")),
      ].sort(),
    );
    for (const other of ["airlock-validate", "airlock-metadata", "airlock-dead-letter", "airlock-sweeper"]) {
      expect(named(TYPES.fn, other).inputs.vpcConfig).toBeUndefined();
      expect(
        Object.keys(variablesOf(named(TYPES.fn, other))).some((k) => k.startsWith("AIRLOCK_CLAMD_")),
      ).toBe(false);
    }
  });

  it("admits only TCP 3310 from the scan function's group to the balancer, and from the balancer to the tasks", () => {
    const ingress = ofType(INGRESS).map((r) => r.inputs);
    expect(ingress).toHaveLength(2);
    expect(ingress).toContainEqual(
      expect.objectContaining({
        securityGroupId: sg("nlb-sg"),
        referencedSecurityGroupId: sg("client-sg"),
        ipProtocol: "tcp",
        fromPort: 3310,
        toPort: 3310,
      }),
    );
    expect(ingress).toContainEqual(
      expect.objectContaining({
        securityGroupId: sg("task-sg"),
        referencedSecurityGroupId: sg("nlb-sg"),
        fromPort: 3310,
        toPort: 3310,
      }),
    );
    for (const rule of ingress) expect(rule.cidrIpv4).toBeUndefined();
    for (const sg of ofType(SG)) expect(sg.inputs.ingress).toBeUndefined();
    const egress = ofType(EGRESS).map((r) => r.inputs);
    expect(egress.filter((r) => r.cidrIpv4 !== undefined).every((r) => r.fromPort === 443)).toBe(true);
  });

  it("alarms on the alarm topic when no clamd task is healthy", () => {
    expect(named(TYPES.alarm, "airlock-clamav-unhealthy").inputs).toMatchObject({
      namespace: "AWS/NetworkELB",
      metricName: "HealthyHostCount",
      threshold: 1,
      comparisonOperator: "LessThanThreshold",
      treatMissingData: "breaching",
      alarmActions: [expect.stringMatching(/^arn:aws:sns:.*airlock-alarms/)],
    });
  });

  it("lets the scan role manage network interfaces only in its subnets, and breaks no policy", () => {
    const statements = statementsOf(named(TYPES.rolePolicy, "airlock-scan-policy").inputs.policy);
    const create = statements.find((s) => s.Action.includes("ec2:CreateNetworkInterface"));
    expect(create?.Resource).toEqual(
      expect.arrayContaining([
        "arn:aws:ec2:*:*:subnet/subnet-a",
        `arn:aws:ec2:*:*:security-group/${sg("client-sg")}`,
      ]),
    );
    expect(create?.Resource).not.toContain("*");
    const validate = statementsOf(named(TYPES.rolePolicy, "airlock-validate-policy").inputs.policy);
    expect(validate.flatMap((s) => s.Action).some((a) => a.startsWith("ec2:"))).toBe(false);
    expect(violations(resources)).toEqual([]);
    expect(RULES.find((r) => r.name === "airlock-iam-no-wildcards")?.check(resources)).toEqual([]);
  });
});
