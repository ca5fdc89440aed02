package io.tandem.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.concurrent.locks.Lock;

/**
 * A connection borrowed under a lock that closing it releases: the store's transactions on one H2
 * database run one at a time in a JVM (see {@link JdbcOffsetStore}, "H2").
 */
final class SerializedConnection implements InvocationHandler {

  private final Connection target;
  private final Lock lock;
  private boolean released;

  private SerializedConnection(Connection target, Lock lock) {
    this.target = target;
    this.lock = lock;
  }

  /** Wraps a connection borrowed while holding {@code lock}; its close() unlocks once. */
  static Connection wrap(Connection target, Lock lock) {
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            new SerializedConnection(target, lock));
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    if (method.getName().equals("close") && method.getParameterCount() == 0) {
      try {
        target.close();
      } finally {
        if (!released) {
          released = true;
          lock.unlock();
        }
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
