package io.tandem.jdbc;

import io.tandem.tck.OptionsReadme;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The README's option table is the one generated from the store's declarations: an option declared
 * but missing from the README, or documented but not declared, fails here. Run with {@code
 * -Dtandem.readme.update=true} to rewrite the table.
 */
class OptionsReadmeTest {

  @Test
  void readmeOptionTableMatchesTheDeclaredOptions() {
    OptionsReadme.assertMatches(Path.of("README.md"), JdbcStoreConfig.OPTIONS);
  }
}
