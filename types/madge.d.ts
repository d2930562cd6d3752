declare module 'madge' {
  interface MadgeConfig {
    baseDir?: string;
    fileExtensions?: string[];
    tsConfig?: string;
    detectiveOptions?: Record<string, Record<string, unknown>>;
  }

  interface MadgeResult {
    /** File → the files it imports, relative to `baseDir`. */
    obj(): Record<string, string[]>;
    circular(): string[][];
  }

  export default function madge(paths: string | string[], config?: MadgeConfig): Promise<MadgeResult>;
}
