export { MIGRATIONS, SCHEMA_VERSION } from "./migrations.js";
export { StoreOpenError } from "./open.js";
export * from "./store.js";
export { isTransientStoreError, StoreUnavailableError } from "./unavailable.js";
