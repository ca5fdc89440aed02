package io.tandem.redis;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Objects;
import redis.clients.jedis.AbstractTransaction;
import redis.clients.jedis.Response;
import redis.clients.jedis.commands.PipelineBinaryCommands;
import redis.clients.jedis.commands.PipelineCommands;
import redis.clients.jedis.commands.ProtocolCommand;

/**
 * The handle a {@link io.tandem.spi.ResultWriter} writes a batch's results through: a Redis
 * transaction in {@code MULTI} state. Every command is <em>queued</em>; it runs inside the commit's
 * {@code EXEC}, together with the positions, or not at all. A {@link Response} has no value while
 * the writer runs (Redis has not executed anything yet): a writer cannot read its own writes, and
 * must not decide on values it reads here. Read what you need before the commit, or write commands
 * whose effect does not depend on a read (HSET, HINCRBY, INCRBY, SET, SADD, ZADD, XADD).
 *
 * <p>The commit owns the transaction: this handle exposes the queued-command API only, no {@code
 * WATCH}, {@code MULTI}, {@code EXEC} or {@code DISCARD}. It is valid only during {@link
 * io.tandem.spi.ResultWriter#write(Object)}; a later call throws {@link IllegalStateException}.
 *
 * <p>For Redis Cluster compatibility, result keys should share the group's hash tag: {@link
 * #hashTag()} returns it.
 */
public final class RedisTransaction {

  private final AbstractTransaction tx;
  private final String group;
  private volatile boolean open = true;
  private final PipelineCommands commands;
  private final PipelineBinaryCommands binaryCommands;

  RedisTransaction(AbstractTransaction tx, String group) {
    this.tx = tx;
    this.group = group;
    // Proxies over the command interfaces only: a cast cannot reach exec() or discard().
    this.commands = proxy(PipelineCommands.class);
    this.binaryCommands = proxy(PipelineBinaryCommands.class);
  }

  /**
   * Commands with string keys and values (UTF-8), queued in the transaction.
   *
   * @return the command API
   * @throws IllegalStateException if the writer has returned
   */
  public PipelineCommands commands() {
    checkOpen();
    return commands;
  }

  /**
   * Commands with binary keys and values, queued in the transaction.
   *
   * @return the command API
   * @throws IllegalStateException if the writer has returned
   */
  public PipelineBinaryCommands binaryCommands() {
    checkOpen();
    return binaryCommands;
  }

  /**
   * Queues any command by name, for commands the typed API lacks (module commands).
   *
   * @param command the command
   * @param args its arguments
   * @return the response, set after EXEC
   * @throws IllegalStateException if the writer has returned
   */
  public Response<Object> sendCommand(ProtocolCommand command, String... args) {
    checkOpen();
    Objects.requireNonNull(command, "command");
    if (isTransactionControl(command.getRaw())) {
      throw new IllegalArgumentException(
          "the commit owns the transaction: "
              + new String(command.getRaw(), java.nio.charset.StandardCharsets.US_ASCII)
              + " cannot be queued by a result writer");
    }
    return tx.sendCommand(command, args);
  }

  /**
   * The consumer group being committed.
   *
   * @return the group
   */
  public String group() {
    return group;
  }

  /**
   * The group's hash tag, {@code {<group>}}: put it in result keys so that on Redis Cluster they
   * hash to the slot of the group's positions.
   *
   * @return the hash tag
   */
  public String hashTag() {
    return "{" + group + "}";
  }

  void close() {
    open = false;
  }

  private void checkOpen() {
    if (!open) {
      throw new IllegalStateException(
          "this RedisTransaction belongs to a finished commit: use the handle only inside"
              + " ResultWriter.write");
    }
  }

  private static boolean isTransactionControl(byte[] raw) {
    String name = new String(raw, java.nio.charset.StandardCharsets.US_ASCII);
    return name.equalsIgnoreCase("MULTI")
        || name.equalsIgnoreCase("EXEC")
        || name.equalsIgnoreCase("DISCARD")
        || name.equalsIgnoreCase("WATCH")
        || name.equalsIgnoreCase("UNWATCH");
  }

  private <C> C proxy(Class<C> api) {
    InvocationHandler handler =
        (Object self, Method method, Object[] args) -> {
          if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
              case "equals" -> self == args[0];
              case "hashCode" -> System.identityHashCode(self);
              default -> "RedisTransaction." + api.getSimpleName() + "[" + group + "]";
            };
          }
          checkOpen();
          try {
            return method.invoke(tx, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        };
    return api.cast(Proxy.newProxyInstance(api.getClassLoader(), new Class<?>[] {api}, handler));
  }

  @Override
  public String toString() {
    return "RedisTransaction[" + group + (open ? "" : ", finished") + "]";
  }
}
