package io.tandem.jdbc;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The check every identifier passes before it enters SQL. Only ASCII letters, digits and
 * underscores, starting with a letter or underscore, at most 63 characters (PostgreSQL's limit),
 * optionally qualified by one schema name of the same form. Nothing else can appear, so neither
 * quoting nor unquoted use can be broken out of.
 */
final class Identifiers {

  static final String RULE =
      "[A-Za-z_][A-Za-z0-9_]{0,62}, optionally schema-qualified (schema.name)";

  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
  private static final Pattern QUALIFIED =
      Pattern.compile("(?:[A-Za-z_][A-Za-z0-9_]{0,62}\\.)?[A-Za-z_][A-Za-z0-9_]{0,62}");

  private Identifiers() {}

  /** Checks a table name, possibly schema-qualified. */
  static String table(String what, String name) {
    Objects.requireNonNull(name, what + " must not be null");
    if (!QUALIFIED.matcher(name).matches()) {
      throw new IllegalArgumentException(
          what + " must match " + RULE + ", got '" + printable(name) + "'");
    }
    return name;
  }

  /** Checks a column name. */
  static String column(String what, String name) {
    Objects.requireNonNull(name, what + " must not be null");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          what + " must match [A-Za-z_][A-Za-z0-9_]{0,62}, got '" + printable(name) + "'");
    }
    return name;
  }

  private static String printable(String s) {
    String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }
}
