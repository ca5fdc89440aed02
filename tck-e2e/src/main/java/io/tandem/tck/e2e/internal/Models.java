package io.tandem.tck.e2e.internal;

import io.tandem.tck.e2e.ResultModel;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Finds a {@link ResultModel} by class name among those the class path lists in {@code
 * META-INF/services/io.tandem.tck.e2e.ResultModel}: the standard plugin mechanism, so that a worker
 * JVM can build the model the test named.
 *
 * <p>Internal: may change in any release.
 */
public final class Models {
  private Models() {}

  /**
   * A new instance of the named model.
   *
   * @param className the model's class name
   * @return a new, unopened model
   * @throws IllegalStateException if no listed model has that name
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static ResultModel<Object> create(String className) {
    List<ServiceLoader.Provider<ResultModel>> listed =
        ServiceLoader.load(ResultModel.class).stream().toList();
    for (ServiceLoader.Provider<ResultModel> p : listed) {
      if (p.type().getName().equals(className)) {
        return p.get();
      }
    }
    throw new IllegalStateException(
        "the result model "
            + className
            + " is not listed in META-INF/services/"
            + ResultModel.class.getName()
            + " on the class path (listed: "
            + listed.stream().map(p -> p.type().getName()).toList()
            + "); add a line with its class name to that file in your test resources");
  }
}
