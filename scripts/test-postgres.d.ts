export declare const BOTH_STORES: string[];
