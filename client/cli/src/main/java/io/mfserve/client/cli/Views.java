package io.mfserve.client.cli;

import io.mfserve.proto.v1.IdForm;
import io.mfserve.proto.v1.ModelInfo;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Human-readable renderings shared by several commands. */
final class Views {
  private Views() {}

  /** A model's description as aligned "key  value" lines. */
  static void modelInfo(PrintStream out, ModelInfo m) {
    List<String[]> rows = new ArrayList<>();
    rows.add(kv("model", m.getModelId()));
    if (m.getAliasesCount() > 0) {
      rows.add(kv("aliases", String.join(", ", m.getAliasesList())));
    }
    rows.add(kv("solver", m.getSolver()));
    rows.add(kv("shape", Fmt.count(m.getNumUsers()) + " users x " + Fmt.count(m.getNumItems())
        + " items, " + Fmt.count(m.getNumEntries()) + " entries" + idForms(m)));
    rows.add(kv("factors", Integer.toString(m.getNumFactors())));
    rows.add(kv("iterations", Integer.toString(m.getIterations())));
    if (!m.getWarmStartModelId().isEmpty()) {
      rows.add(kv("warm start", "from " + m.getWarmStartModelId()));
    }
    rows.add(kv("training RMSE", Fmt.score(m.getTrainingRmse())));
    if (m.getValidationRmseCount() > 0) {
      rows.add(kv("validation RMSE", Fmt.score(m.getValidationRmse(m.getValidationRmseCount() - 1))
          + " (" + Fmt.count(m.getNumValidationEntries()) + " held-out entries; per iteration: "
          + Fmt.series(m.getValidationRmseList()) + ")"));
    }
    if (m.getTrainingLossCount() > 0) {
      rows.add(kv("loss", Fmt.series(m.getTrainingLossList()) + " (per iteration)"));
    }
    rows.add(kv("fit time", Fmt.seconds(m.getFitSeconds())));
    rows.add(kv("memory", Fmt.bytes(m.getMemoryBytes())
        + (m.getResident() || m.getMemoryBytes() > 0 ? "" : " (not resident: loaded on its "
        + "first request)")));
    for (io.mfserve.proto.v1.ApproximateIndex a : m.getApproximateIndexesList()) {
      String v = a.getState();
      if (a.getState().equals("ready")) {
        v += String.format(java.util.Locale.ROOT, ", %s graph of %s rows, M=%d, beam %d,"
            + " ef %d, %s, built in %s", a.getMetric(), Fmt.count(a.getRows()),
            a.getMaxConnections(), a.getBeamWidth(), a.getEfSearch(),
            Fmt.bytes(a.getMemoryBytes()), Fmt.seconds(a.getBuildSeconds()));
        if (!Double.isNaN(a.getSampledRecall())) {
          v += String.format(java.util.Locale.ROOT, ", sampled recall@10 %.3f",
              a.getSampledRecall());
        }
      } else if (!a.getDetail().isEmpty()) {
        v += ": " + a.getDetail();
      }
      rows.add(kv("index " + a.getTarget(), v));
    }
    rows.add(kv("absent entries", Fmt.absent(m.getAbsentEntries())));
    rows.add(kv("biases", m.getHasBiases() ? "yes" : "no"));
    rows.add(kv("seed", Long.toUnsignedString(m.getSeed())));
    if (m.getParamsCount() > 0) {
      StringBuilder sb = new StringBuilder();
      for (Map.Entry<String, String> e : new TreeMap<>(m.getParamsMap()).entrySet()) {
        if (sb.length() > 0) {
          sb.append(", ");
        }
        sb.append(e.getKey()).append('=').append(e.getValue());
      }
      rows.add(kv("params", sb.toString()));
    }
    rows.add(kv("created", Fmt.time(m.getCreateTime())));
    if (!m.getMfserveVersion().isEmpty()) {
      rows.add(kv("mfserve version", m.getMfserveVersion()));
    }
    if (!m.getDataFingerprint().isEmpty()) {
      rows.add(kv("data fingerprint", m.getDataFingerprint()));
    }
    keyValues(out, rows);
    if (m.getTuneTrialsCount() > 0) {
      double seconds = m.getTuneTrialsList().stream().mapToDouble(t -> t.getSeconds()).sum();
      out.println("tuning: " + m.getTuneTrialsCount() + " trials by " + (m.getTuneMetric()
          == io.mfserve.proto.v1.TuneMetric.TUNE_METRIC_NDCG ? "NDCG" : "RMSE") + " on a held-out"
          + " part, " + Fmt.seconds(seconds) + " of trials (summed: trials run in parallel;"
          + " * the chosen setting):");
      for (io.mfserve.proto.v1.TuneTrial t : m.getTuneTrialsList()) {
        out.println("  " + trialLine(t));
      }
    }
  }

  /** One trial of a search: number, bracket, rung, iterations, metric, seconds, setting. */
  static String trialLine(io.mfserve.proto.v1.TuneTrial t) {
    StringBuilder sb = new StringBuilder(t.getBest() ? "* " : "  ").append("trial ")
        .append(t.getNumber()).append(" (bracket ").append(t.getBracket()).append(", rung ")
        .append(t.getRung()).append(", ")
        .append(t.getIterations() > 0 ? t.getIterations() + " iterations" : "defaults")
        .append("): ").append(t.getError().isEmpty() ? Fmt.score(t.getMetric())
            : "failed: " + t.getError()).append(" in ").append(Fmt.seconds(t.getSeconds()));
    new TreeMap<>(t.getSettingMap()).forEach((n, v) -> sb.append(' ').append(n).append('=')
        .append(v));
    return sb.toString();
  }

  static void keyValues(PrintStream out, List<String[]> rows) {
    int width = 0;
    for (String[] r : rows) {
      width = Math.max(width, r[0].length());
    }
    for (String[] r : rows) {
      out.println((r[0] + " ".repeat(width - r[0].length()) + "  " + r[1]).stripTrailing());
    }
  }

  static String[] kv(String key, String value) {
    return new String[] {key, value};
  }

  private static String idForms(ModelInfo m) {
    IdForm u = m.getUserIdForm();
    IdForm i = m.getItemIdForm();
    if (u == IdForm.ID_FORM_UNSPECIFIED && i == IdForm.ID_FORM_UNSPECIFIED) {
      return "";
    }
    return u == i ? " (" + Fmt.idForm(u) + ")"
        : " (users by " + Fmt.idForm(u) + ", items by " + Fmt.idForm(i) + ")";
  }
}
