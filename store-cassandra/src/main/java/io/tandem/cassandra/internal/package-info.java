/** Internal: may change in any release. */
package io.tandem.cassandra.internal;
