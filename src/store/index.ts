export { MIGRATIONS, SCHEMA_VERSION } from "./migrations.js";
export * from "./store.js";
