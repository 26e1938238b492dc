/** Label put on every Docker object so tests and operators can find an environment's objects. */
export const ENVIRONMENT_LABEL = "org.protocol-monitoring.environment";

/** Label naming the service (its hostname) a container or volume belongs to. */
export const SERVICE_LABEL = "org.protocol-monitoring.service";

/** Label with a hash of a container's healthcheck: a changed healthcheck replaces the container. */
export const HEALTHCHECK_LABEL = "org.protocol-monitoring.healthcheck";
