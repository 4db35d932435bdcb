package io.haraft.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The front page and the documents under {@code docs/} say what the code does: the README's
 * embedding snippet compiles against the published API, the test command it gives is the one CI
 * runs, the seed-replay commands name the simulator's real properties, and every relative link
 * between the documents and into the repository resolves.
 */
class DocsTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final Pattern FENCE = Pattern.compile("```.*?```", Pattern.DOTALL);
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");

    @Test
    void theReadmeEmbeddingSnippetCompiles(@TempDir Path out) throws IOException {
        Matcher m = JAVA_BLOCK.matcher(read(ROOT.resolve("README.md")));
        assertThat(m.find()).as("README.md has a ```java block").isTrue();
        String source = """
                import io.haraft.*;
                import io.haraft.fencing.jdbc.JdbcFence;
                import java.nio.file.Path;
                class ReadmeSnippet {
                    interface Billing { void start(Leadership l); void stop(); }
                    static void snippet(Billing billing, JdbcFence fenced, Leadership l) throws Exception {
                """ + m.group(1) + """
                    }
                }
                """;
        assertThat(compile("ReadmeSnippet", source, out)).as("compiler errors for the README snippet:%n%s", source).isEmpty();
    }

    @Test
    void theReadmeGivesTheTestCommandThatCiRuns() throws IOException {
        assertThat(read(ROOT.resolve("README.md"))).contains("\nmvn -B verify\n");
        assertThat(read(ROOT.resolve(".ci/run"))).contains("\nmvn -B verify\n");
    }

    @Test
    void theSeedReplayCommandsNameTheSimulatorsProperties() throws IOException {
        String testing = read(ROOT.resolve("docs/testing.md"));
        assertThat(testing).contains("-Dtest=SimulationTest -Dsim.seed=").contains("-Dtest=SimulationTest -Dsim.seeds=");
        String simulation = read(ROOT.resolve("ha-raft-impl/src/test/java/io/haraft/sim/SimulationTest.java"));
        assertThat(simulation).contains("\"sim.seed\"").contains("\"sim.seeds\"");
    }

    @Test
    void theContributingGuideGivesEachModulesCommandToAcceptAnApiChange() throws IOException {
        String contributing = read(ROOT.resolve("docs/contributing.md"));
        Pattern accept = Pattern.compile("\"(mvn [^\"]*-Dharaft\\.api\\.accept=true)\"");
        for (String test : List.of("ha-raft-api/src/test/java/io/haraft/PublicApiTest.java",
                "ha-raft-fencing/src/test/java/io/haraft/fencing/PublicApiTest.java",
                "ha-raft-micrometer/src/test/java/io/haraft/micrometer/PublicApiTest.java")) {
            Matcher m = accept.matcher(read(ROOT.resolve(test)));
            assertThat(m.find()).as("%s names its accept command", test).isTrue();
            assertThat(contributing).as("docs/contributing.md").contains(m.group(1));
        }
    }

    @Test
    void everyRelativeLinkInTheDocsResolves() throws IOException {
        List<Path> docs = new ArrayList<>();
        docs.add(ROOT.resolve("README.md"));
        try (Stream<Path> files = Files.list(ROOT.resolve("docs"))) {
            files.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        List<String> broken = new ArrayList<>();
        for (Path doc : docs) {
            Matcher m = LINK.matcher(FENCE.matcher(read(doc)).replaceAll(""));
            while (m.find()) {
                String link = m.group(1);
                if (link.matches("[a-z]+:.*")) {
                    continue; // http, https, mailto: not checked offline
                }
                String[] fileAndAnchor = link.split("#", 2);
                Path target = fileAndAnchor[0].isEmpty() ? doc : doc.getParent().resolve(fileAndAnchor[0]).normalize();
                if (!Files.exists(target)) {
                    broken.add(ROOT.relativize(doc) + ": " + link + " (no such file)");
                } else if (fileAndAnchor.length == 2 && target.toString().endsWith(".md")
                        && !anchors(read(target)).contains(fileAndAnchor[1])) {
                    broken.add(ROOT.relativize(doc) + ": " + link + " (no such heading)");
                }
            }
        }
        assertThat(broken).as("broken links").isEmpty();
    }

    /** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
    private static List<String> anchors(String markdown) {
        List<String> anchors = new ArrayList<>();
        for (String line : FENCE.matcher(markdown).replaceAll("").split("\n")) {
            if (line.startsWith("#")) {
                String title = line.replaceFirst("^#+\\s*", "").strip().toLowerCase();
                anchors.add(title.replaceAll("[^\\p{L}\\p{N}_\\- ]", "").replace(' ', '-'));
            }
        }
        return anchors;
    }

    private static List<String> compile(String className, String source, Path out) {
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        assertThat(compiler).as("a JDK's compiler (tests run on a JDK)").isNotNull();
        JavaFileObject file = new SimpleJavaFileObject(URI.create("string:///" + className + ".java"),
                JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return source;
            }
        };
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        List<String> options = List.of("-classpath", System.getProperty("java.class.path"), "-d", out.toString(),
                "-proc:none");
        boolean ok = compiler.getTask(new StringWriter(), null, diagnostics, options, null, List.of(file)).call();
        List<String> errors = new ArrayList<>();
        diagnostics.getDiagnostics().stream()
                .filter(d -> d.getKind() == javax.tools.Diagnostic.Kind.ERROR)
                .forEach(d -> errors.add("line " + d.getLineNumber() + ": " + d.getMessage(null)));
        if (!ok && errors.isEmpty()) {
            errors.add("the compiler failed without a diagnostic");
        }
        return errors;
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8);
    }
}
