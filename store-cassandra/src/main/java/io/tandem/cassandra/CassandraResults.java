package io.tandem.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.cql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The handle a {@link CassandraOffsetStore} passes to result writers: they add the batch's result
 * statements here, and the store runs them after the writer returned and before it moves the
 * offsets.
 *
 * <p>Every statement must be marked idempotent ({@code setIdempotent(true)}): a replay after a
 * crash or a conflict runs it again, so it must be a keyed overwrite (an {@code INSERT} or an
 * {@code UPDATE ... SET col = ?} by full primary key), never a counter update, a list append, or a
 * value from {@code now()}/{@code uuid()}. The store refuses the whole commit, before running
 * anything, when a statement is not marked so. {@link CassandraUpsert} builds such statements.
 *
 * <p>A statement with no consistency level runs at the store's write consistency, so that results
 * are at least as durable as the offsets that follow them. Not thread-safe: one writer fills it.
 */
public final class CassandraResults {

  private final CqlSession session;
  private final List<Statement<?>> statements = new ArrayList<>();
  private boolean sealed;

  CassandraResults(CqlSession session) {
    this.session = session;
  }

  /**
   * Adds a result statement.
   *
   * @param statement a keyed, idempotent statement (checked when the commit runs)
   * @return this handle
   * @throws IllegalStateException if the commit already took the statements
   */
  public CassandraResults add(Statement<?> statement) {
    Objects.requireNonNull(statement, "statement must not be null");
    if (sealed) {
      throw new IllegalStateException(
          "this commit's results were already taken: add statements inside ResultWriter.write");
    }
    statements.add(statement);
    return this;
  }

  /**
   * Adds several result statements.
   *
   * @param more the statements
   * @return this handle
   */
  public CassandraResults addAll(Iterable<? extends Statement<?>> more) {
    Objects.requireNonNull(more, "statements must not be null");
    for (Statement<?> s : more) {
      add(s);
    }
    return this;
  }

  /**
   * Prepares a statement on the store's session. The driver caches prepared statements by query
   * string, so calling this per commit costs one lookup after the first.
   *
   * @param cql the statement text
   * @return the prepared statement
   */
  public PreparedStatement prepare(String cql) {
    return session.prepare(cql);
  }

  /**
   * The store's session, for reads a writer needs (the commit itself runs the added statements).
   *
   * @return the session
   */
  public CqlSession session() {
    return session;
  }

  /**
   * How many statements were added.
   *
   * @return the count
   */
  public int size() {
    return statements.size();
  }

  List<Statement<?>> seal() {
    sealed = true;
    return List.copyOf(statements);
  }

  /** A short description of a statement for messages: its CQL, truncated. */
  static String describe(Statement<?> statement) {
    String cql;
    if (statement instanceof SimpleStatement s) {
      cql = s.getQuery();
    } else if (statement instanceof BoundStatement b) {
      cql = b.getPreparedStatement().getQuery();
    } else if (statement instanceof BatchStatement batch) {
      int n = batch.size();
      String first = n == 0 ? "" : ", first: " + describe(batch.iterator().next());
      cql = "BATCH of " + n + first;
    } else {
      cql = statement.getClass().getSimpleName();
    }
    cql = cql.replaceAll("\\s+", " ").trim();
    return cql.length() > 200 ? cql.substring(0, 200) + "..." : cql;
  }
}
