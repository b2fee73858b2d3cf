package io.mfserve.server.model.tune;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Draws random settings from a spec's ranges (Bergstra and Bengio, "Random Search for
 * Hyper-Parameter Optimization", JMLR 2012): each range independently, uniformly or
 * log-uniformly, integers for integer settings; a list of values uniformly. Numbers are kept
 * to 4 significant digits, so that the settings read well and survive a text round trip.
 * The same seed gives the same settings.
 */
final class Proposals {
  private Proposals() {}

  /**
   * Draws {@code n} settings.
   *
   * @param ranges the ranges, in the order the settings list them
   * @param integers the names drawn as integers
   * @param n how many
   * @param seed the seed
   * @return the settings, values as text
   */
  static List<Map<String, String>> draw(List<TuneRange> ranges, Set<String> integers, int n,
      long seed) {
    SplittableRandom random = new SplittableRandom(seed ^ 0x7E57_7E57_5EED_0001L);
    List<Map<String, String>> out = new ArrayList<>(n);
    for (int t = 0; t < n; t++) {
      Map<String, String> setting = new LinkedHashMap<>();
      for (TuneRange r : ranges) {
        setting.put(r.name(), value(r, integers.contains(r.name()), random));
      }
      out.add(setting);
    }
    return out;
  }

  private static String value(TuneRange r, boolean integer, SplittableRandom random) {
    if (r.isList()) {
      return r.values().get(random.nextInt(r.values().size()));
    }
    double u = random.nextDouble();
    if (integer) {
      long lo = (long) Math.ceil(r.min());
      long hi = (long) Math.floor(r.max());
      if (r.logScale()) {
        // Log-uniform over [lo − ½, hi + ½), so the ends get their share of the draws.
        double a = Math.log(lo - 0.5 > 0 ? lo - 0.5 : lo);
        double b = Math.log(hi + 0.5);
        return Long.toString(Math.max(lo, Math.min(hi, Math.round(Math.exp(a + u * (b - a))))));
      }
      return Long.toString(lo + (long) Math.floor(u * (hi - lo + 1)));
    }
    double v = r.logScale()
        ? Math.exp(Math.log(r.min()) + u * (Math.log(r.max()) - Math.log(r.min())))
        : r.min() + u * (r.max() - r.min());
    double rounded = Double.parseDouble(String.format(Locale.ROOT, "%.4g", v));
    return Double.toString(Math.max(r.min(), Math.min(r.max(), rounded)));
  }
}
