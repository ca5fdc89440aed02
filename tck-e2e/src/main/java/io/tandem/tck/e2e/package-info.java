/**
 * The end-to-end kit: {@link io.tandem.tck.e2e.ExactlyOnceVerification} runs the Tandem consumer
 * runtime over a backend's store in forked JVMs, kills them hard (SIGKILL, also mid-commit),
 * restarts, adds and removes them, wakes frozen zombies (SIGSTOP/SIGCONT) after their partitions
 * moved, and checks that every input record has exactly one result and, for transactional stores,
 * that per-key folds are exact. A backend supplies a broker address, its store URI and a {@link
 * io.tandem.tck.e2e.ResultModel}; the kit never starts a server.
 *
 * <p>Artifact {@code io.tandem:tandem-tck-e2e}, in the backend's test scope; it brings the runtime
 * ({@code tandem-kafka}) and the process harness of {@code tandem-testing}. The rules are numbered
 * in its {@code RULES.md}.
 *
 * @since 0.1
 */
package io.tandem.tck.e2e;
