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
import java.util.List;
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
  void discover_pluginDirectory_loadsItChildFirstSharingOnlyTheSpi(@TempDir Path dir)
      throws Exception {
    Path lib = Files.createDirectories(dir.resolve("isolated").resolve("lib"));
    String classFile = IsolatedTestProvider.class.getName().replace('.', '/') + ".class";
    try (OutputStream out = Files.newOutputStream(lib.resolve("isolated.jar"));
        JarOutputStream jar = new JarOutputStream(out);
        java.io.InputStream bytes = IsolatedTestProvider.class.getClassLoader()
            .getResourceAsStream(classFile)) {
      jar.putNextEntry(new JarEntry("META-INF/services/" + SolverProvider.class.getName()));
      jar.write((IsolatedTestProvider.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
      jar.closeEntry();
      jar.putNextEntry(new JarEntry(classFile));
      bytes.transferTo(jar);
      jar.closeEntry();
    }
    Map<String, SolverProvider> solvers = Guice.createInjector(SolverModule.discover(dir))
        .getInstance(Key.get(new TypeLiteral<Map<String, SolverProvider>>() { }));
    SolverProvider isolated = solvers.get("isolated");
    assertTrue(isolated != null, solvers.keySet().toString());
    assertEquals(4, solvers.size(), solvers.keySet().toString());
    ClassLoader loader = isolated.getClass().getClassLoader();
    // The plugin's own copy, though the server's classpath has the class too: child-first.
    assertTrue(loader instanceof PluginClassLoader, loader.toString());
    assertTrue(isolated.getClass() != IsolatedTestProvider.class);
    // The SPI is the server's; the JDK is the JDK; nothing else of the server shows through.
    assertTrue(loader.loadClass(SolverProvider.class.getName()) == SolverProvider.class);
    assertTrue(loader.loadClass("java.util.List") == List.class);
    assertThrows(ClassNotFoundException.class,
        () -> loader.loadClass(Guice.class.getName()));
    assertThrows(ClassNotFoundException.class,
        () -> loader.loadClass("io.mfserve.solver.als.AlsSolverProvider"));
  }

  @Test
  void discover_missingPluginsDir_failsNamingTheFlag(@TempDir Path dir) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SolverModule.discover(dir.resolve("nope")));
    assertTrue(e.getMessage().contains("--plugins-dir"), e.getMessage());
  }
}
