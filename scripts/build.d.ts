export declare function isStale(): boolean;
export declare function build(): Promise<void>;
/** Builds when dist/ is missing or older than a source; true when it did. */
export declare function buildIfStale(): Promise<boolean>;
