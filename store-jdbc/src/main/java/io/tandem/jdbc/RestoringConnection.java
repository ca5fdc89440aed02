package io.tandem.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;

/**
 * A connection from a user's DataSource that was in auto-commit mode: the store switches it to
 * manual commit for its transaction and switches it back before handing it back, so that a pool
 * which does not reset connections gives the application what it expects.
 */
final class RestoringConnection implements InvocationHandler {

  private final Connection target;

  private RestoringConnection(Connection target) {
    this.target = target;
  }

  static Connection wrap(Connection target) {
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            new RestoringConnection(target));
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    if (method.getName().equals("close") && method.getParameterCount() == 0) {
      try {
        if (!target.isClosed()) {
          // Every store operation ends with commit or rollback, so nothing is pending here.
          target.setAutoCommit(true);
        }
      } finally {
        target.close();
      }
      return null;
    }
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
