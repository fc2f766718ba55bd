package io.kubeferry.dist;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package rules of design.md ("one-way data flow", "the core never imports a backend", "backends never
 * talk to the API server"), checked on the compiled main classes of every module. It lives here because
 * dist is the one module that depends on the core and all backends, so it sees all their classes; test
 * code is left out (the backends' tests do use Fabric8's mock API server).
 */
@AnalyzeClasses(packages = "io.kubeferry", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    private static final String[] BACKENDS = {"io.kubeferry.iptables..", "io.kubeferry.ipvs.."};

    /** Each package is its own slice, so a cycle between any two of ours (e.g. state ⇄ watch) fails. */
    @ArchTest
    static final ArchRule noPackageCycles = slices().matching("io.kubeferry.(**)").namingSlices("$1")
            .should().beFreeOfCycles();

    @ArchTest
    static final ArchRule modelImportsNothingOfOurs = noClasses().that().resideInAPackage("io.kubeferry.proxy.model")
            .should().dependOnClassesThat(resideInAPackage("io.kubeferry..").and(resideOutsideOfPackage("io.kubeferry.proxy.model")))
            .because("the model is the vocabulary every layer and backend reads; it depends on none of them");

    @ArchTest
    static final ArchRule coreImportsNoBackend = noClasses().that().resideInAPackage("io.kubeferry.proxy..")
            .should().dependOnClassesThat().resideInAnyPackage(BACKENDS)
            .because("backends are found with ServiceLoader by mode name");

    @ArchTest
    static final ArchRule backendsNeitherWatchNorTalkToTheApiServer = noClasses().that().resideInAnyPackage(BACKENDS)
            .should().dependOnClassesThat().resideInAnyPackage("io.kubeferry.proxy.watch..", "io.fabric8..")
            .because("backends read the ProxyState snapshot and report through ServiceEvents, never the API server");
}
