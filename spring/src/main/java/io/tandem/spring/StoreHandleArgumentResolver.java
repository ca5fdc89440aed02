package io.tandem.spring;

import org.springframework.core.MethodParameter;
import org.springframework.messaging.Message;
import org.springframework.messaging.handler.invocation.HandlerMethodArgumentResolver;

/**
 * Resolves a {@code @KafkaListener} method parameter of the store's handle type (say {@code
 * RedisTransaction}) to the handle of the commit running the listener. Register it through a {@code
 * KafkaListenerConfigurer}: {@code registrar.setCustomMethodArgumentResolvers(new
 * StoreHandleArgumentResolver(store.handleType()))}; the Spring Boot starter does.
 *
 * @since 0.1
 */
public final class StoreHandleArgumentResolver implements HandlerMethodArgumentResolver {

  private final Class<?> handleType;

  /**
   * Creates the resolver.
   *
   * @param handleType the store's {@link io.tandem.spi.OffsetStore#handleType()}
   */
  public StoreHandleArgumentResolver(Class<?> handleType) {
    this.handleType = java.util.Objects.requireNonNull(handleType, "handleType must not be null");
  }

  @Override
  public boolean supportsParameter(MethodParameter parameter) {
    Class<?> type = parameter.getParameterType();
    return type != Object.class && type.isAssignableFrom(handleType);
  }

  @Override
  public Object resolveArgument(MethodParameter parameter, Message<?> message) {
    return StoreHandles.current(parameter.getParameterType());
  }
}
