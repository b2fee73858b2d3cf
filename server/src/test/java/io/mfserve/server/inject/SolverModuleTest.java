package io.mfserve.server.inject;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.Guice;
import com.google.inject.Key;
import com.google.inject.TypeLiteral;
import io.mfserve.server.testing.ZeroFactorProvider;
import io.mfserve.solver.SolverProvider;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SolverModuleTest {
  /** A plugin that is registered only by the services file of a jar the test writes. */
  public static final class PluginOnlyProvider extends ZeroFactorProvider {
    /** The no-argument constructor {@link java.util.ServiceLoader} calls. */
    public PluginOnlyProvider() {
      super("from-plugin-dir", "found through --plugins-dir");
    }
  }

  @Test
  void discover_pluginsDir_findsTheProviderListedInAJar(@TempDir Path dir) throws Exception {
    try (OutputStream out = Files.newOutputStream(dir.resolve("plugin.jar"));
        JarOutputStream jar = new JarOutputStream(out)) {
      jar.putNextEntry(new JarEntry("META-INF/services/" + SolverProvider.class.getName()));
      jar.write((PluginOnlyProvider.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
      jar.closeEntry();
    }
    Map<String, SolverProvider> solvers = Guice.createInjector(SolverModule.discover(dir))
        .getInstance(Key.get(new TypeLiteral<Map<String, SolverProvider>>() { }));
    assertTrue(solvers.containsKey("from-plugin-dir"), solvers.keySet().toString());
    assertTrue(solvers.containsKey("als"), solvers.keySet().toString());
    assertEquals(4, solvers.size());
  }

  @Test
  void discover_missingPluginsDir_failsNamingTheFlag(@TempDir Path dir) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SolverModule.discover(dir.resolve("nope")));
    assertTrue(e.getMessage().contains("--plugins-dir"), e.getMessage());
  }
}
