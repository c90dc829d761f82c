/**
 * The optional ClamAV service: clamd + freshclam from the official `clamav/clamav` image on ECS Fargate, behind
 * an internal Network Load Balancer in the scan VPC. Only the scan function's security group reaches the
 * balancer (TCP 3310), and only the balancer reaches the tasks; the tasks reach the internet over HTTPS for
 * signature updates. clamd's limits are set to match the scan function: `StreamMaxLength` and `MaxFileSize` equal
 * `clamdStreamMaxBytes`, and `AlertExceedsMax` / `AlertEncrypted` make clamd say when it could not look inside
 * (otherwise it would answer OK for what it skipped). Observability alarms when no task is healthy.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AirlockConfig } from "./config.ts";
import { policyDocument } from "./iam.ts";

export const CLAMD_PORT = 3310;

export interface ClamavArgs {
  config: AirlockConfig;
  vpcId: string;
  subnetIds: string[];
}

/** The shell line that pins clamd's limits in the image's clamd.conf, then hands over to the image's /init. */
export function clamdStartup(streamMaxBytes: number): string {
  const settings: Record<string, string> = {
    StreamMaxLength: String(streamMaxBytes),
    MaxFileSize: String(streamMaxBytes),
    MaxScanSize: String(Math.max(streamMaxBytes * 4, 400 * 1024 * 1024)),
    AlertExceedsMax: "yes",
    AlertEncrypted: "yes",
  };
  const conf = "/etc/clamav/clamd.conf";
  const lines = Object.entries(settings).map(
    ([key, value]) => `sed -i '/^${key} /d' ${conf} && echo '${key} ${value}' >> ${conf}`,
  );
  return [...lines, "exec /init"].join(" && ");
}

export class Clamav extends pulumi.ComponentResource {
  /** `tcp://<balancer>:3310`, for AIRLOCK_CLAMD_ENDPOINT. */
  readonly endpoint: pulumi.Output<string>;
  /** The scan function's group: the only source the balancer admits. */
  readonly clientSecurityGroup: aws.ec2.SecurityGroup;
  readonly balancerSecurityGroup: aws.ec2.SecurityGroup;
  readonly taskSecurityGroup: aws.ec2.SecurityGroup;
  readonly service: aws.ecs.Service;
  /** The balancer and its targets, whose healthy host count is alarmed. */
  readonly balancer: aws.lb.LoadBalancer;
  readonly targets: aws.lb.TargetGroup;

  constructor(name: string, args: ClamavArgs, opts?: pulumi.ComponentResourceOptions) {
    super("airlock:clamav:Clamav", name, {}, opts);
    const { config, vpcId, subnetIds } = args;
    const parent = { parent: this };
    const group = (suffix: string, description: string) =>
      new aws.ec2.SecurityGroup(`${name}-${suffix}`, { vpcId, description }, parent);
    this.clientSecurityGroup = group("client-sg", "Airlock scan function: AWS APIs and clamd");
    this.balancerSecurityGroup = group("nlb-sg", "Airlock clamd balancer: clamd from the scan function only");
    this.taskSecurityGroup = group("task-sg", "Airlock clamd tasks: clamd from the balancer only");

    const tcp = { ipProtocol: "tcp" } as const;
    const clamd = { ...tcp, fromPort: CLAMD_PORT, toPort: CLAMD_PORT };
    const https = { ...tcp, fromPort: 443, toPort: 443 };
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-client-to-nlb`,
      {
        securityGroupId: this.clientSecurityGroup.id,
        referencedSecurityGroupId: this.balancerSecurityGroup.id,
        ...clamd,
      },
      parent,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-client-https`,
      { securityGroupId: this.clientSecurityGroup.id, cidrIpv4: "0.0.0.0/0", ...https },
      parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-nlb-from-client`,
      {
        securityGroupId: this.balancerSecurityGroup.id,
        referencedSecurityGroupId: this.clientSecurityGroup.id,
        ...clamd,
      },
      parent,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-nlb-to-task`,
      {
        securityGroupId: this.balancerSecurityGroup.id,
        referencedSecurityGroupId: this.taskSecurityGroup.id,
        ...clamd,
      },
      parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-task-from-nlb`,
      {
        securityGroupId: this.taskSecurityGroup.id,
        referencedSecurityGroupId: this.balancerSecurityGroup.id,
        ...clamd,
      },
      parent,
    );
    // Image pulls and freshclam's signature downloads.
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-task-https`,
      { securityGroupId: this.taskSecurityGroup.id, cidrIpv4: "0.0.0.0/0", ...https },
      parent,
    );

    const balancer = new aws.lb.LoadBalancer(
      `${name}-nlb`,
      {
        internal: true,
        loadBalancerType: "network",
        subnets: subnetIds,
        securityGroups: [this.balancerSecurityGroup.id],
        enableCrossZoneLoadBalancing: true,
      },
      parent,
    );
    this.balancer = balancer;
    const targets = new aws.lb.TargetGroup(
      `${name}-targets`,
      {
        vpcId,
        port: CLAMD_PORT,
        protocol: "TCP",
        targetType: "ip",
        deregistrationDelay: 30,
        healthCheck: { protocol: "TCP", interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
      },
      parent,
    );
    this.targets = targets;
    const listener = new aws.lb.Listener(
      `${name}-listener`,
      {
        loadBalancerArn: balancer.arn,
        port: CLAMD_PORT,
        protocol: "TCP",
        defaultActions: [{ type: "forward", targetGroupArn: targets.arn }],
      },
      parent,
    );

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { retentionInDays: config.logRetentionDays },
      parent,
    );
    const executionRole = new aws.iam.Role(
      `${name}-execution-role`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        }),
      },
      parent,
    );
    const executionPolicy = new aws.iam.RolePolicy(
      `${name}-execution-policy`,
      {
        role: executionRole.id,
        policy: policyDocument([
          {
            Sid: "OwnLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: [pulumi.interpolate`${logGroup.arn}:*`],
          },
        ]),
      },
      parent,
    );
    const cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      { settings: [{ name: "containerInsights", value: "disabled" }] },
      parent,
    );
    const region = aws.getRegionOutput({}, parent).region;
    const task = new aws.ecs.TaskDefinition(
      `${name}-task`,
      {
        // Task definition families are per account and region: one per stack.
        family: `${pulumi.getProject()}-${pulumi.getStack()}-clamd`,
        cpu: String(config.clamavCpu),
        memory: String(config.clamavMemoryMb),
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
        executionRoleArn: executionRole.arn,
        containerDefinitions: pulumi.jsonStringify([
          {
            name: "clamd",
            image: config.clamavImage,
            essential: true,
            portMappings: [{ containerPort: CLAMD_PORT, protocol: "tcp" }],
            entryPoint: ["/bin/sh", "-c"],
            command: [clamdStartup(config.clamdStreamMaxBytes)],
            healthCheck: {
              command: ["CMD-SHELL", "clamdcheck.sh"],
              interval: 30,
              timeout: 10,
              retries: 3,
              startPeriod: 300,
            },
            logConfiguration: {
              logDriver: "awslogs",
              options: {
                "awslogs-group": logGroup.name,
                "awslogs-region": region,
                "awslogs-stream-prefix": "clamd",
              },
            },
          },
        ]),
      },
      { parent: this, dependsOn: [executionPolicy] },
    );
    this.service = new aws.ecs.Service(
      `${name}-service`,
      {
        cluster: cluster.arn,
        taskDefinition: task.arn,
        desiredCount: config.clamavDesiredCount,
        launchType: "FARGATE",
        // The first start downloads and loads the signature database: minutes, not seconds.
        healthCheckGracePeriodSeconds: 600,
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        networkConfiguration: {
          subnets: subnetIds,
          securityGroups: [this.taskSecurityGroup.id],
          assignPublicIp: false,
        },
        loadBalancers: [{ targetGroupArn: targets.arn, containerName: "clamd", containerPort: CLAMD_PORT }],
      },
      { parent: this, dependsOn: [listener] },
    );
    this.endpoint = pulumi.interpolate`tcp://${balancer.dnsName}:${CLAMD_PORT}`;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
