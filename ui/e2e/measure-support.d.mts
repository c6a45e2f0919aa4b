// Types of measure-support.mjs for the TypeScript that imports it (playwright.config.ts).
export declare const LAUNCH: { executablePath: string; args: string[] };
export declare function startServer(options: { binary: string; password: string; workers?: number }): Promise<{
  url: string;
  restart: () => Promise<void>;
  stop: () => void;
}>;
export declare function median(values: number[]): number;
