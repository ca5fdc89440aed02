package io.tandem.tck.selftest;

import io.tandem.tck.model.ModelCheck;
import java.lang.reflect.Constructor;
import org.junit.jupiter.api.Test;

class ModelExplore {
  @Test
  void explore() throws Exception {
    String[] names = System.getProperty("kits", "TransactionalReference").split(",");
    for (String n : names) {
      Class<?> c = Class.forName("io.tandem.tck.selftest.Kits$" + n);
      Constructor<?> k = c.getDeclaredConstructor();
      k.setAccessible(true);
      Kits.MemoryKit kit = (Kits.MemoryKit) k.newInstance();
      for (int seed = 1; seed <= Integer.getInteger("seeds", 1); seed++)
        for (int actors : new int[] {1, 3}) {
          long t0 = System.nanoTime();
          String out;
          try {
            ModelCheck.Summary s =
                ModelCheck.of(kit::newStore, kit.probe())
                    .actors(actors)
                    .runs(actors == 1 ? 8 : 3)
                    .operations(actors == 1 ? 30 : 20)
                    .seed(seed * 1000L)
                    .timeouts(10_000, 5_000)
                    .run();
            out = "PASS " + s;
          } catch (AssertionError e) {
            out = "FAIL " + e.getMessage();
          }
          System.err.println(
              "=== "
                  + n
                  + " actors="
                  + actors
                  + " "
                  + (System.nanoTime() - t0) / 1_000_000
                  + "ms\n"
                  + out);
        }
    }
  }
}
