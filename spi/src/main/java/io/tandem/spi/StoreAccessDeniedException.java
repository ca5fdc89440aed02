package io.tandem.spi;

/**
 * The backend refused the store's credentials or denied it a permission: a wrong or revoked
 * password, an unknown user, a missing grant or ACL. Never retriable: retrying with the same
 * credentials meets the same refusal, so a consumer stops instead of retrying forever. Fix the
 * credentials or the grants, then open the store again.
 *
 * <p>A {@link StoreConfigurationException}, so code that handles configuration errors handles this
 * one too. Its message names the user where the backend does, never the password.
 *
 * @since 0.1
 */
public class StoreAccessDeniedException extends StoreConfigurationException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message what was refused, where (password masked), what to check
   * @param cause the driver's error
   */
  public StoreAccessDeniedException(String message, Throwable cause) {
    super(message, cause);
  }
}
