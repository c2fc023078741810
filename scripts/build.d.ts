export declare function isStale(): boolean;
export declare function build(): void;
/** Builds when dist/ is missing or older than a source; true when it did. */
export declare function buildIfStale(): boolean;
