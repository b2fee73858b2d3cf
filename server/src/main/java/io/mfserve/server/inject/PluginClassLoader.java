package io.mfserve.server.inject;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * The class loader of one plugin directory: child-first, so that a plugin's libraries (Spark
 * brings its own Guava, Netty, Jackson, protobuf and Scala) are the ones it runs with, whatever
 * versions the server carries.
 *
 * <p>Only two things come from outside the plugin's jars: the JDK (through the platform class
 * loader, asked first, so no jar can shadow {@code java.*}), and the solver SPI, the package
 * {@value #SPI_PACKAGE} alone, from the server, so that the plugin's
 * {@code SolverProvider} is the very interface the server calls. Nothing else of the server's
 * classpath is visible: a class the plugin does not bring fails with ClassNotFoundException
 * instead of silently binding to the server's copy. Resources follow the same rule, so that
 * {@link java.util.ServiceLoader} over this loader finds the plugin's own providers only.
 */
final class PluginClassLoader extends URLClassLoader {
  /** The solver SPI's package: the one package shared with the server. */
  static final String SPI_PACKAGE = "io.mfserve.solver";

  static {
    ClassLoader.registerAsParallelCapable();
  }

  private final ClassLoader spi;
  private final ClassLoader jdk = ClassLoader.getPlatformClassLoader();

  /**
   * Creates the loader of one plugin.
   *
   * @param name the plugin's directory name, for stack traces and logs
   * @param jars the plugin's jars
   * @param spi the loader of the solver SPI (the server's)
   */
  PluginClassLoader(String name, URL[] jars, ClassLoader spi) {
    // The platform loader as parent: getParent() never leads to the server's classpath.
    super("mfserve-plugin-" + name, jars, ClassLoader.getPlatformClassLoader());
    this.spi = spi;
  }

  static boolean isSpi(String className) {
    int dot = className.lastIndexOf('.');
    return dot == SPI_PACKAGE.length() && className.startsWith(SPI_PACKAGE);
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    synchronized (getClassLoadingLock(name)) {
      Class<?> c = findLoadedClass(name);
      if (c == null) {
        if (isSpi(name)) {
          c = spi.loadClass(name);
        } else {
          try {
            c = jdk.loadClass(name);
          } catch (ClassNotFoundException notJdk) {
            c = findClass(name);
          }
        }
      }
      if (resolve) {
        resolveClass(c);
      }
      return c;
    }
  }

  @Override
  public URL getResource(String name) {
    URL url = jdk.getResource(name);
    return url != null ? url : findResource(name);
  }

  @Override
  public Enumeration<URL> getResources(String name) throws IOException {
    List<URL> all = new ArrayList<>(Collections.list(jdk.getResources(name)));
    all.addAll(Collections.list(findResources(name)));
    return Collections.enumeration(all);
  }
}
