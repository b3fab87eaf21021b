export { BLOB_ID_PATTERN, BlobStore } from "./blob-store.js";
export { JOB_STATES, type JobEnding, type JobState, type NewJob, type StoredJob } from "./job-table.js";
export { MIGRATIONS, type MigrationContext, SCHEMA_VERSION } from "./migrations.js";
export { StoreOpenError } from "./open.js";
export * from "./store.js";
export { isTransientStoreError, StoreUnavailableError } from "./unavailable.js";
