package io.tandem.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OffsetStoresTest {

  @AfterEach
  void clearProperty() {
    System.clearProperty(OffsetStores.PROVIDER_PROPERTY);
  }

  @Test
  void picksTheProviderByScheme() {
    assertThat(OffsetStores.provider("alpha://h:1/x")).isInstanceOf(TestProviders.Alpha.class);
    assertThat(OffsetStores.provider("ALPHA+tls://h:1/x")).isInstanceOf(TestProviders.Alpha.class);
  }

  @Test
  void openPassesUriToProvider() {
    assertThatThrownBy(() -> OffsetStores.open("alpha://u:secret@h:1/x", Map.of()))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessage("alpha opened alpha://u:****@h:1/x");
  }

  @Test
  void unknownSchemeNamesSchemesOnClassPathAndTheArtifactToAdd() {
    assertThatThrownBy(() -> OffsetStores.open("redis://u:pw@h:6379"))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("No Tandem store for scheme 'redis' (redis://u:****@h:6379)")
        .hasMessageContaining("On the class path: alpha, alpha+tls, dup.")
        .hasMessageContaining("Add io.tandem:tandem-store-redis.")
        .hasMessageNotContaining("pw");
  }

  @Test
  void unknownSchemeReportsProvidersThatFailedToLoadByClassName() {
    assertThatThrownBy(() -> OffsetStores.open("broken://h"))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Providers that failed to load")
        .hasMessageContaining("io.tandem.spi.TestProviders$Broken");
  }

  @Test
  void unknownSchemeOutsideOursSaysToAddAStoreModule() {
    assertThatThrownBy(() -> OffsetStores.open("etcd://h:2379"))
        .hasMessageContaining("No Tandem store for scheme 'etcd'")
        .hasMessageContaining("Add a store module that provides it.");
  }

  @Test
  void severalProvidersForOneSchemeFailListingEachClassAndJar() {
    assertThatThrownBy(() -> OffsetStores.provider("dup://h"))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Several Tandem stores provide scheme 'dup'")
        .hasMessageContaining("io.tandem.spi.TestProviders$DupOne (")
        .hasMessageContaining("io.tandem.spi.TestProviders$DupTwo (")
        .hasMessageContaining("-Dtandem.provider=<class>");
  }

  @Test
  void providerPropertyDecidesBetweenSeveral() {
    System.setProperty(OffsetStores.PROVIDER_PROPERTY, TestProviders.DupTwo.class.getName());
    assertThat(OffsetStores.provider("dup://h")).isInstanceOf(TestProviders.DupTwo.class);
  }

  @Test
  void providerPropertyNamingNoMatchingProviderFails() {
    System.setProperty(OffsetStores.PROVIDER_PROPERTY, "com.example.Nope");
    assertThatThrownBy(() -> OffsetStores.provider("dup://h"))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining(
            "-Dtandem.provider=com.example.Nope names no provider for scheme 'dup'");
  }

  @Test
  void malformedUriIsRejectedWithTheUri() {
    assertThatThrownBy(() -> OffsetStores.open("no scheme here"))
        .isInstanceOf(StoreConfigurationException.class)
        .hasMessageContaining("Malformed store URI 'no scheme here'");
    assertThatThrownBy(() -> OffsetStores.open("://x"))
        .isInstanceOf(StoreConfigurationException.class);
  }

  @Test
  void nullUriIsANullPointerNamingIt() {
    assertThatThrownBy(() -> OffsetStores.open(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("uri");
  }
}
