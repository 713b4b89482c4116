// Types of launch.js (plain JavaScript so that an old Node.js can load it).
export declare const NEEDED_MAJOR: number;
export type LaunchPlan = { kind: 'import'; file: string } | { kind: 'exec'; node: string } | { kind: 'refuse'; message: string };
export declare function chooseLaunch(facts: { nodeVersion: string; root: string; exists: (path: string) => boolean; node24: string | null; reexeced: boolean }): LaunchPlan;
