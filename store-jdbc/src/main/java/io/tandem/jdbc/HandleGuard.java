package io.tandem.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;

/**
 * The connection a {@link io.tandem.spi.ResultWriter} sees: the commit's own connection, minus the
 * calls that would end or escape its transaction. A writer that committed, rolled back, switched to
 * auto-commit or closed the connection would split results from offsets; it gets an SQLException
 * instead, which aborts the commit. After the writer returns the handle is dead, so a writer that
 * kept it cannot write outside a later transaction. {@code unwrap} stays available for driver APIs
 * (PostgreSQL COPY); what is done through the unwrapped object is the writer's responsibility.
 */
final class HandleGuard implements InvocationHandler {

  private static final Set<String> FORBIDDEN =
      Set.of("commit", "setAutoCommit", "close", "abort", "setTransactionIsolation");

  private final Connection target;
  private volatile boolean open = true;

  private HandleGuard(Connection target) {
    this.target = target;
  }

  static HandleGuard of(Connection target) {
    return new HandleGuard(target);
  }

  Connection handle() {
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, this);
  }

  void invalidate() {
    open = false;
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    String name = method.getName();
    switch (name) {
      case "equals":
        return proxy == args[0];
      case "hashCode":
        return System.identityHashCode(proxy);
      case "toString":
        return "TandemTransactionHandle[" + target + "]";
      case "isClosed":
        return !open || target.isClosed();
      default:
        break;
    }
    if (!open) {
      throw new SQLException(
          "This connection belonged to a Tandem commit that has ended; a ResultWriter must not"
              + " keep its handle",
          "08003");
    }
    boolean rollbackAll = name.equals("rollback") && (args == null || args.length == 0);
    if (FORBIDDEN.contains(name) || rollbackAll) {
      throw new SQLException(
          "Connection."
              + name
              + "() is not allowed in a ResultWriter: the Tandem store commits results and offsets"
              + " together. Throw an exception to abort the commit instead.");
    }
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
