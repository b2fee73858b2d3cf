package io.mfserve.server.inject;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.MapBinder;
import io.mfserve.server.model.fit.SolverDefaults;
import io.mfserve.solver.SolverProvider;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * Turns {@link ServiceLoader} into a {@code MapBinder<String, SolverProvider>}: every provider on
 * the classpath, in every jar of the plugins directory and in every plugin sub-directory (each
 * isolated in its own class loader), by name. Two providers with one name, or a name that is
 * not lower-case, stop the server at start-up.
 */
public final class SolverModule extends AbstractModule {
  private static final Logger LOG = Logger.getLogger(SolverModule.class.getName());
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]*");

  private final List<SolverProvider> providers;

  /**
   * Finds providers on the classpath and in {@code pluginsDir}.
   *
   * <p>The directory holds two kinds of plugin. A jar at its top level is loaded as before, by
   * one loader over all of them whose parent is the server's: such a plugin may use what the
   * server carries. A sub-directory is one <em>isolated</em> plugin: its jars (at any depth,
   * e.g. the plugin's jar beside a {@code lib/} of its dependencies) get a child-first
   * {@link PluginClassLoader} of their own that shares only the JDK and the solver SPI with the
   * server, so that a plugin with a large dependency tree (Spark) cannot clash with the
   * server's libraries or with another plugin's.
   *
   * @param pluginsDir a directory of plugin jars and plugin directories, or null
   * @throws IllegalArgumentException if the directory cannot be read
   */
  public static SolverModule discover(Path pluginsDir) {
    ClassLoader spi = SolverProvider.class.getClassLoader();
    List<SolverProvider> found = new ArrayList<>();
    List<ClassLoader> loaders = new ArrayList<>();
    if (pluginsDir == null) {
      loaders.add(spi);
    } else {
      if (!Files.isDirectory(pluginsDir)) {
        throw new IllegalArgumentException("--plugins-dir " + pluginsDir + " is not a directory");
      }
      loaders.add(sharedLoader(pluginsDir, spi));
      for (Path dir : list(pluginsDir, Files::isDirectory)) {
        List<URL> jars = jarsUnder(dir);
        if (jars.isEmpty()) {
          LOG.warning(() -> "plugin directory " + dir + " holds no jar; skipped");
          continue;
        }
        String name = dir.getFileName().toString();
        LOG.info(() -> "isolated plugin " + name + ": " + jars.size() + " jars");
        loaders.add(new PluginClassLoader(name, jars.toArray(new URL[0]), spi));
      }
    }
    for (ClassLoader loader : loaders) {
      // The first loader sees the classpath's providers (and the top-level jars'), an
      // isolated one only its own, so each provider is found once.
      for (SolverProvider p : ServiceLoader.load(SolverProvider.class, loader)) {
        found.add(p);
      }
    }
    return new SolverModule(found);
  }

  /** Binds exactly these providers (tests pass their own). */
  public SolverModule(List<SolverProvider> providers) {
    this.providers = List.copyOf(providers);
  }

  /**
   * Returns a module binding these providers with the operator's launch-time parameter
   * defaults applied ({@link SolverDefaults}).
   *
   * @throws IllegalArgumentException naming the flag if a default names a solver or parameter
   *     there is not, or a value the parameter refuses
   */
  public SolverModule withDefaults(SolverDefaults defaults) {
    return defaults.isEmpty() ? this : new SolverModule(defaults.apply(providers));
  }

  /** The loader of the jars at the directory's top level, child of the server's. */
  private static ClassLoader sharedLoader(Path dir, ClassLoader parent) {
    List<URL> jars = new ArrayList<>();
    for (Path jar : list(dir, p -> Files.isRegularFile(p) && p.toString().endsWith(".jar"))) {
      jars.add(url(jar));
    }
    LOG.info(() -> "plugin jars: " + jars);
    return new URLClassLoader("mfserve-plugins", jars.toArray(new URL[0]), parent);
  }

  private static List<URL> jarsUnder(Path dir) {
    try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(p -> Files.isRegularFile(p) && p.toString().endsWith(".jar")).sorted()
          .map(SolverModule::url).toList();
    } catch (IOException | java.io.UncheckedIOException e) {
      throw new IllegalArgumentException("cannot read plugin directory " + dir + ": " + e, e);
    }
  }

  private static List<Path> list(Path dir, java.util.function.Predicate<Path> keep) {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path p : files) {
        if (keep.test(p)) {
          out.add(p);
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read --plugins-dir " + dir + ": " + e, e);
    }
    out.sort(null);
    return out;
  }

  private static URL url(Path jar) {
    try {
      return jar.toUri().toURL();
    } catch (MalformedURLException e) {
      throw new IllegalArgumentException("bad plugin path " + jar + ": " + e.getMessage(), e);
    }
  }

  @Override
  protected void configure() {
    MapBinder<String, SolverProvider> map =
        MapBinder.newMapBinder(binder(), String.class, SolverProvider.class);
    Map<String, String> seen = new HashMap<>();
    for (SolverProvider p : providers) {
      String name = p.name();
      if (name == null || !NAME.matcher(name).matches()) {
        addError("solver %s has an invalid name '%s': use lower-case [a-z][a-z0-9_-]*",
            p.getClass().getName(), name);
        continue;
      }
      String other = seen.putIfAbsent(name, p.getClass().getName());
      if (other != null) {
        addError("two solvers are named '%s': %s and %s; remove one from the classpath or"
            + " the plugins directory", name, other, p.getClass().getName());
        continue;
      }
      map.addBinding(name).toInstance(p);
    }
  }
}
