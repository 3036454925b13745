/**
 * Tenants: every cube, stored row, Kafka message key, Redis key and audit record belongs to one.
 * A caller's tenant is the `tid` claim of their verified token (Entra ID's directory id); tokens
 * without one, and cubes loaded without `--tenant`, are in DEFAULT_TENANT.
 */

/** The tenant of tokens without a `tid` claim and of cubes loaded without a tenant. */
export const DEFAULT_TENANT = "default";

/** A tenant id: 1 to 64 letters, digits or `-` (an Entra ID directory id is a GUID). */
export const TENANT_ID = /^[A-Za-z0-9-]{1,64}$/;
