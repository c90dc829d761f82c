/**
 * The entry `Pulumi.yaml` names (`main`). Pulumi's Node host imports it and runs its default export; it refuses
 * an ES module that has both a default export and named exports, so this module has nothing else.
 */
import { airlock } from "./program.ts";

export default () => airlock();
