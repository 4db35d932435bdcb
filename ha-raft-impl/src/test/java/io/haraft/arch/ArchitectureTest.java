package io.haraft.arch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The structural rules of the project's layout: the core is pure (no clock, no threads, no I/O, no
 * other impl package), and the public API knows nothing of the implementation.
 */
class ArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.haraft");
    }

    @Test
    void theImportSeesBothTheCoreAndTheApi() {
        assertThat(classes.stream().filter(c -> c.getPackageName().startsWith("io.haraft.core"))).isNotEmpty();
        assertThat(classes.stream().filter(c -> c.getPackageName().equals("io.haraft"))).isNotEmpty();
    }

    @Test
    void theCoreDoesNoIo() {
        ArchRule rule = noClasses().that().resideInAPackage("io.haraft.core..")
                .should().dependOnClassesThat().resideInAnyPackage("java.io..", "java.nio..", "java.net..",
                        "java.sql..", "java.util.concurrent..")
                .because("the Raft core is pure: the runtime does all I/O and threading");
        rule.check(classes);
    }

    @Test
    void theCoreStartsNoThreadAndReadsNoClock() {
        noClasses().that().resideInAPackage("io.haraft.core..")
                .should().dependOnClassesThat().areAssignableTo(Thread.class)
                .orShould().dependOnClassesThat().areAssignableTo(Runnable.class)
                .orShould().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.time.Instant")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.time.Clock")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.time.LocalDateTime")
                .because("time enters the core only as an argument, so the simulator can drive it")
                .check(classes);
    }

    /**
     * The runtime takes its clock, threads and randomness from its NodeEnvironment alone, so that
     * the whole-node simulator runs the same code deterministically. Exempt: the environment of the
     * library itself, the loop's own thread, the thread factories, the JIT warm-up (off in the
     * simulator), the providers that build a library node, and the shared pools of a node hosting
     * many groups (SharedEnvironment and its nested classes: the library's environment for groups,
     * as SystemEnvironment is for a single group).
     */
    @Test
    void theRuntimeTakesTimeAndThreadsOnlyFromItsEnvironment() {
        noClasses().that().resideInAPackage("io.haraft.runtime..")
                .and().doNotHaveSimpleName("NodeEnvironment").and().doNotHaveSimpleName("SystemEnvironment")
                .and().doNotHaveSimpleName("LoopDriver").and().doNotHaveSimpleName("OwnThread")
                .and().doNotHaveSimpleName("Threads").and().doNotHaveSimpleName("Warmup")
                .and().doNotHaveSimpleName("RaftNodeProvider").and().doNotHaveSimpleName("MonotonicClock")
                .and(com.tngtech.archunit.base.DescribedPredicate.not(com.tngtech.archunit.base.DescribedPredicate
                        .describe("the shared environment of groups", (com.tngtech.archunit.core.domain.JavaClass c) ->
                                c.getName().startsWith("io.haraft.runtime.SharedEnvironment"))))
                .should().callMethod(System.class, "nanoTime")
                .orShould().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethodWhere(com.tngtech.archunit.core.domain.JavaCall.Predicates.target(
                        com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner(
                                com.tngtech.archunit.base.DescribedPredicate.describe("Executors",
                                        c -> c.getName().equals("java.util.concurrent.Executors")))))
                .orShould().callConstructor(Thread.class, Runnable.class)
                .orShould().callConstructor(Thread.class, Runnable.class, String.class)
                .orShould().callConstructor(java.util.SplittableRandom.class)
                .orShould().callMethod(java.util.UUID.class, "randomUUID")
                .because("time, threads and randomness come from the NodeEnvironment (the simulator's in tests)")
                .check(classes);
    }

    @Test
    void theCoreDependsOnNoOtherImplementationPackage() {
        noClasses().that().resideInAPackage("io.haraft.core..")
                .should().dependOnClassesThat().resideInAnyPackage("io.haraft.storage..", "io.haraft.transport..",
                        "io.haraft.runtime..", "io.grpc..", "com.google.protobuf..")
                .check(classes);
    }

    @Test
    void theApiKnowsNothingOfTheImplementation() {
        noClasses().that().resideInAnyPackage("io.haraft", "io.haraft.spi")
                .should().dependOnClassesThat().resideInAnyPackage("io.haraft.core..", "io.haraft.storage..",
                        "io.haraft.transport..", "io.haraft.runtime..", "io.grpc..", "com.google.protobuf..")
                .because("applications compile against ha-raft-api alone")
                .check(classes);
    }
}
