package io.mfserve.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class FmtTest {
  @Test
  void sig_everyMagnitude_fourSignificantDigitsWithoutNeedlessExponents() {
    assertEquals("7.308", Fmt.sig(7.30812));
    assertEquals("33.33", Fmt.sig(100.0 / 3));
    assertEquals("100", Fmt.sig(100));
    assertEquals("1235", Fmt.sig(1234.5));
    assertEquals("74820", Fmt.sig(74820.3));
    assertEquals("416122", Fmt.sig(416122.1));
    assertEquals("1.235e+06", Fmt.sig(1234567));
    assertEquals("1.234e-04", Fmt.sig(0.00012341));
    assertEquals("0", Fmt.sig(0));
    assertEquals("NaN", Fmt.sig(Double.NaN));
  }
}
