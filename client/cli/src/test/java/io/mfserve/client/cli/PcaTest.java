package io.mfserve.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class PcaTest {
  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  @Test
  void fit_pointsAlongOneDirection_findsItAsTheFirstComponent() {
    // 200 points spread widely along (1, 2, 2)/3 and a little along (2, -2, 1)/3 (orthogonal),
    // around the centre (5, -1, 3).
    double[] u = {1 / 3.0, 2 / 3.0, 2 / 3.0};
    double[] w = {2 / 3.0, -2 / 3.0, 1 / 3.0};
    Random rnd = new Random(7);
    int n = 200;
    float[] rows = new float[n * 3];
    for (int i = 0; i < n; i++) {
      double a = rnd.nextGaussian() * 10;
      double b = rnd.nextGaussian();
      rows[i * 3] = (float) (5 + a * u[0] + b * w[0]);
      rows[i * 3 + 1] = (float) (-1 + a * u[1] + b * w[1]);
      rows[i * 3 + 2] = (float) (3 + a * u[2] + b * w[2]);
    }

    Pca pca = Pca.fit(rows, n, 3);

    assertEquals(1.0, Math.abs(dot(pca.component(0), u)), 1e-3);
    assertEquals(1.0, Math.abs(dot(pca.component(1), w)), 1e-2);
    assertTrue(pca.explained(0) > 0.98, "explained " + pca.explained(0));
    assertTrue(pca.variance(0) > pca.variance(1) && pca.variance(1) > pca.variance(2));
    assertEquals(1.0, pca.explained(0) + pca.explained(1) + pca.explained(2), 1e-9);
    // Largest coordinate positive: the sign is fixed.
    assertTrue(pca.component(0)[2] > 0 || pca.component(0)[1] > 0);
  }

  @Test
  void fit_knownCovariance_givesExactEigenvaluesAndCentredProjections() {
    // Four points (±2, 0) and (0, ±1): variances 8/3 along x and 2/3 along y.
    float[] rows = {2, 0, -2, 0, 0, 1, 0, -1};

    Pca pca = Pca.fit(rows, 4, 2);

    assertEquals(8 / 3.0, pca.variance(0), 1e-12);
    assertEquals(2 / 3.0, pca.variance(1), 1e-12);
    assertEquals(1.0, pca.component(0)[0], 1e-12);
    assertEquals(0.8, pca.explained(0), 1e-12);
    double[][] p = pca.project(rows, 4, 2);
    assertEquals(2.0, p[0][0], 1e-12);
    assertEquals(-2.0, p[1][0], 1e-12);
    assertEquals(1.0, Math.abs(p[2][1]), 1e-12);
  }

  @Test
  void fit_rotatedFactorsInEightDimensions_componentsAreOrthonormal() {
    Random rnd = new Random(3);
    int n = 300;
    int k = 8;
    float[] rows = new float[n * k];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = (float) (rnd.nextGaussian() * (1 + i % k));
    }

    Pca pca = Pca.fit(rows, n, k);

    for (int a = 0; a < k; a++) {
      for (int b = 0; b < k; b++) {
        assertEquals(a == b ? 1.0 : 0.0, dot(pca.component(a), pca.component(b)), 1e-9);
      }
      if (a > 0) {
        assertTrue(pca.variance(a - 1) >= pca.variance(a));
      }
    }
  }

  @Test
  void fit_onePointOrOneFactor_isDegenerateButDefined() {
    Pca one = Pca.fit(new float[] {1, 2, 3}, 1, 3);
    assertEquals(0.0, one.explained(0));
    assertEquals(0.0, one.project(new float[] {1, 2, 3}, 1, 2)[0][0]);

    Pca line = Pca.fit(new float[] {1, 2, 4}, 3, 1);
    double[][] p = line.project(new float[] {1, 2, 4}, 3, 2);
    assertEquals(1.0, line.explained(0), 1e-12);
    assertEquals(0.0, p[0][1]);
  }

  @Test
  void fit_wrongSize_throws() {
    assertThrows(IllegalArgumentException.class, () -> Pca.fit(new float[5], 2, 3));
  }
}
