package io.mfserve.server.inject;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.MapBinder;
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
 * the classpath and in every jar of the plugins directory, by name. Two providers with one name,
 * or a name that is not lower-case, stop the server at start-up.
 */
public final class SolverModule extends AbstractModule {
  private static final Logger LOG = Logger.getLogger(SolverModule.class.getName());
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]*");

  private final List<SolverProvider> providers;

  /**
   * Finds providers on the classpath and in {@code pluginsDir}.
   *
   * @param pluginsDir a directory of plugin jars, or null
   * @throws IllegalArgumentException if the directory cannot be read
   */
  public static SolverModule discover(Path pluginsDir) {
    ClassLoader loader = SolverProvider.class.getClassLoader();
    if (pluginsDir != null) {
      loader = pluginLoader(pluginsDir, loader);
    }
    List<SolverProvider> found = new ArrayList<>();
    for (SolverProvider p : ServiceLoader.load(SolverProvider.class, loader)) {
      found.add(p);
    }
    return new SolverModule(found);
  }

  /** Binds exactly these providers (tests pass their own). */
  public SolverModule(List<SolverProvider> providers) {
    this.providers = List.copyOf(providers);
  }

  private static ClassLoader pluginLoader(Path dir, ClassLoader parent) {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("--plugins-dir " + dir + " is not a directory");
    }
    List<URL> jars = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.jar")) {
      for (Path jar : files) {
        jars.add(jar.toUri().toURL());
      }
    } catch (MalformedURLException e) {
      throw new IllegalArgumentException("bad plugin path in " + dir + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read --plugins-dir " + dir + ": " + e, e);
    }
    jars.sort((a, b) -> a.toString().compareTo(b.toString()));
    LOG.info(() -> "plugin jars: " + jars);
    return new URLClassLoader("mfserve-plugins", jars.toArray(new URL[0]), parent);
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
