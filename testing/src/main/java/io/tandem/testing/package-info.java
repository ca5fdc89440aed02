/**
 * Real servers on loopback for Tandem's tests, one shared instance per server per test JVM.
 *
 * <p>Each launcher follows one order: an address from an environment variable (a user's own
 * server), else Testcontainers when a Docker engine answers, else an embedded launcher built from
 * Maven artifacts or local binaries. Each logs which one it used.
 */
package io.tandem.testing;
