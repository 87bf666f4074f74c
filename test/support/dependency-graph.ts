/**
 * The 1 000-container dependency graph of issue 25, shared by its test and its bench: a root
 * (`root`), a few deep chains hanging from it and a few wide fans, each container depending on
 * exactly one other with `restart: true` and the condition `started`, listed dependencies first.
 */

/** One container of the graph: its id and the one container it depends on (none for the root). */
export interface GraphNode {
  readonly id: string;
  readonly dependsOn: string | undefined;
}

/** Chains of this many containers, each on the one before, the first on the root. */
export const CHAIN_LENGTH = 50;
export const CHAINS = 4;
/** Fans: a hub on the root, and this many leaves on each hub. */
export const FANS = 4;
export const FAN_LEAVES = 199;

/** The graph's containers, dependencies first: 1 + 4 × 50 + 4 × (1 + 199) = 1 001 with the root. */
export function dependencyGraph(): GraphNode[] {
  const nodes: GraphNode[] = [{ id: 'root', dependsOn: undefined }];
  for (let chain = 0; chain < CHAINS; chain++) {
    for (let link = 0; link < CHAIN_LENGTH; link++) {
      nodes.push({ id: `chain${chain}-${link}`, dependsOn: link === 0 ? 'root' : `chain${chain}-${link - 1}` });
    }
  }
  for (let fan = 0; fan < FANS; fan++) {
    nodes.push({ id: `fan${fan}`, dependsOn: 'root' });
    for (let leaf = 0; leaf < FAN_LEAVES; leaf++) nodes.push({ id: `fan${fan}-${leaf}`, dependsOn: `fan${fan}` });
  }
  return nodes;
}
