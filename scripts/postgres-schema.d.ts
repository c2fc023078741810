export declare const SQLITE_SCHEMA: URL;
export declare const POSTGRES_SCHEMA: URL;
export declare function postgresSchema(sqlite: string): string;
