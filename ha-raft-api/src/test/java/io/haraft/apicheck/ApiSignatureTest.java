package io.haraft.apicheck;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The API signature check on small fixtures: what it lists, and that it fails on a change. */
public class ApiSignatureTest { // public: its nested fixtures must be in an API

    private static final String OWNER = Fixture.class.getName();
    private static final String ACCEPT = "mvn -B -pl some-module test -Dharaft.api.accept=true";

    /** A public type with members of every visibility. */
    @SuppressWarnings("unused")
    public static class Fixture implements Comparable<Fixture> {
        public static final String NAME = "fixture";
        protected int counter;
        int packagePrivateField;

        public Fixture() {
        }

        protected Fixture(int counter) {
            this.counter = counter;
        }

        private Fixture(String ignored) {
        }

        public void kept() {
        }

        @SafeVarargs
        public final <T extends Comparable<T>> T max(List<? extends T> values, T... more) throws IOException {
            return more[0];
        }

        protected synchronized void hook() {
        }

        void packagePrivate() {
        }

        private void secret() {
        }

        @Override
        public int compareTo(Fixture o) {
            return 0;
        }

        /** A public nested interface of a type in the API: in the API too. */
        public interface Nested {
            /**
             * A default method.
             *
             * @return nothing
             */
            default Runnable task() {
                return null;
            }
        }
    }

    /** Not public: not in the API, and neither is its public member. */
    static class Hidden {
        public void visibleButHidden() {
        }

        /** Public inside a package-private type: not in the API either. */
        public static class InsideHidden {
        }
    }

    /** An enum and a record, whose implicit modifiers must not show. */
    public enum Color {
        RED, GREEN {
            @Override
            public String toString() {
                return "green";
            }
        }
    }

    /** A record. */
    public record Point(int x, int y) {
    }

    @Test
    void listsTheDeclarationAndThePublicAndProtectedMembersWithTheirSignatures() {
        List<String> lines = ApiSignature.of(List.of(Fixture.class, Hidden.class, Hidden.InsideHidden.class));

        assertThat(lines).containsExactly(
                OWNER + " type: public static class Fixture implements java.lang.Comparable<" + OWNER + ">",
                OWNER + " field: protected int counter",
                OWNER + " field: public static final java.lang.String NAME = \"fixture\"",
                OWNER + " constructor: protected Fixture(int)",
                OWNER + " constructor: public Fixture()",
                OWNER + " method: protected void hook()",
                OWNER + " method: public final <T extends java.lang.Comparable<T>> T max(java.util.List<? extends T>, T...)"
                        + " throws java.io.IOException",
                OWNER + " method: public int compareTo(" + OWNER + ")",
                OWNER + " method: public void kept()");
    }

    @Test
    void listsNestedTypesEnumsAndRecordsWithoutTheirImplicitModifiers() {
        List<String> lines = ApiSignature.of(List.of(Fixture.Nested.class, Color.class, Point.class));

        String nested = Fixture.Nested.class.getName();
        String color = Color.class.getName();
        String point = Point.class.getName();
        assertThat(lines).contains(
                nested + " type: public interface Nested",
                nested + " method: public default java.lang.Runnable task()",
                color + " type: public enum Color",
                color + " field: public static final " + color + " GREEN",
                color + " method: public static " + color + "[] values()",
                point + " type: public record Point",
                point + " constructor: public Point(int, int)",
                point + " method: public int x()");
        assertThat(lines).noneMatch(l -> l.contains("$1"));
    }

    @Test
    void readsAModulesCompiledClassesFromTheDirectoryOfItsAnchor() {
        List<String> lines = ApiSignature.ofModule(ApiSignatureTest.class, "io.haraft.apicheck");

        assertThat(lines).contains(OWNER + " method: public void kept()",
                ApiSignature.class.getName() + " type: public final class ApiSignature");
        assertThat(lines).noneMatch(l -> l.startsWith(Hidden.class.getName()));
    }

    @Test
    void aModuleCheckThatFindsNotEvenItsAnchorFailsInsteadOfComparingNothing() {
        assertThatThrownBy(() -> ApiSignature.checkModule("some-module", ACCEPT, ApiSignatureTest.class,
                "no.such.pkg"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("does not list " + ApiSignatureTest.class.getName());
    }

    @Test
    void passesWhenTheFileHoldsTheSameLines(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("fixture.api");
        List<String> lines = ApiSignature.of(List.of(Fixture.class));
        Files.write(file, lines, StandardCharsets.UTF_8);

        ApiSignature.check(file, lines, ACCEPT, false);
    }

    @Test
    void failsOnAChangedSignatureNamingTheRemovedAndAddedLinesAndTheAcceptCommand(@TempDir Path dir)
            throws IOException {
        Path file = dir.resolve("fixture.api");
        List<String> committed = ApiSignature.of(List.of(Fixture.class));
        Files.write(file, committed, StandardCharsets.UTF_8);
        List<String> changed = new ArrayList<>(committed);
        changed.remove(OWNER + " method: public void kept()");
        changed.add(OWNER + " method: public void kept(int)");

        assertThatThrownBy(() -> ApiSignature.check(file, changed, ACCEPT, false))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("- " + OWNER + " method: public void kept()\n")
                .hasMessageContaining("+ " + OWNER + " method: public void kept(int)\n")
                .hasMessageContaining(ACCEPT);
    }

    @Test
    void failsWhenAMemberIsOnlyRemoved(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("fixture.api");
        List<String> committed = ApiSignature.of(List.of(Fixture.class));
        Files.write(file, committed, StandardCharsets.UTF_8);
        List<String> smaller = new ArrayList<>(committed);
        smaller.remove(OWNER + " method: protected void hook()");

        assertThatThrownBy(() -> ApiSignature.check(file, smaller, ACCEPT, false))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("- " + OWNER + " method: protected void hook()")
                .hasMessageNotContaining("\n+ ");
    }

    @Test
    void failsWhenTheFileIsMissing(@TempDir Path dir) {
        assertThatThrownBy(() -> ApiSignature.check(dir.resolve("none.api"), List.of("x type: class"), ACCEPT, false))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("No API signature file")
                .hasMessageContaining(ACCEPT);
    }

    @Test
    void acceptingRewritesTheFileSoThatTheNextCheckPasses(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("api").resolve("fixture.api");
        List<String> lines = ApiSignature.of(List.of(Fixture.class));

        ApiSignature.check(file, lines, ACCEPT, true);

        assertThat(Files.readAllLines(file, StandardCharsets.UTF_8)).isEqualTo(lines);
        ApiSignature.check(file, lines, ACCEPT, false);
    }
}
