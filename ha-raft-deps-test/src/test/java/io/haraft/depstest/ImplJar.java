package io.haraft.depstest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarFile;

/** Where a class was loaded from, and the published ha-raft-impl jar this test runs against. */
final class ImplJar {
    /** A class of ha-raft-impl that the application never names (found through ServiceLoader). */
    static final String IMPL_CLASS = "io.haraft.runtime.RaftNodeProvider";

    private ImplJar() {
    }

    /** The jar file or classes directory that {@code className} was loaded from. */
    static Path locationOf(String className) {
        try {
            Class<?> c = Class.forName(className, false, ImplJar.class.getClassLoader());
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (ClassNotFoundException | URISyntaxException e) {
            throw new AssertionError("cannot locate " + className, e);
        }
    }

    /**
     * The ha-raft-impl jar on the class path; fails if the build handed out its classes directory
     * instead (a reactor build that stopped before ha-raft-impl was packaged).
     */
    static Path path() {
        Path p = locationOf(IMPL_CLASS);
        if (Files.isDirectory(p) || !p.getFileName().toString().endsWith(".jar")) {
            throw new AssertionError("ha-raft-impl was loaded from " + p + ", not from its packaged (shaded) jar;"
                    + " run this module in a build that packages ha-raft-impl first: mvn verify");
        }
        return p;
    }

    /** The names of all entries (directories left out) of the ha-raft-impl jar. */
    static List<String> entries() {
        try (JarFile jar = new JarFile(path().toFile())) {
            List<String> names = new ArrayList<>();
            for (var e : Collections.list(jar.entries())) {
                if (!e.isDirectory()) {
                    names.add(e.getName());
                }
            }
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The text of one entry of the ha-raft-impl jar. */
    static String read(String entry) {
        try (JarFile jar = new JarFile(path().toFile())) {
            return new String(jar.getInputStream(jar.getEntry(entry)).readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
