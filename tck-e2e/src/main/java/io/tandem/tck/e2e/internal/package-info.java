/** Internal: may change in any release. Worker JVM, process control and fixtures of the kit. */
package io.tandem.tck.e2e.internal;
