package io.haraft.apicheck;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The public API of a module as text, one line per type and per public or protected member, so that
 * a committed copy ({@code api/<artifactId>.api} in the module) turns every API change into a
 * reviewed line in a diff.
 *
 * <p>A type is in the API when it is public (a nested one: public or protected, inside a type that
 * is itself in the API). Its lines are its declaration (modifiers, kind, type parameters, supertypes
 * and, for a sealed type, the permitted subtypes), then its public and protected fields,
 * constructors and methods with their generic signatures and thrown exceptions, and the value of
 * a static final primitive or string field. Members a public
 * type inherits from a non-public superclass are listed under the public type, since callers see
 * them there. Synthetic and bridge members are left out. Each line starts with the type's binary
 * name, so the lines sort by type, and a line read alone says what it belongs to.
 *
 * <p>{@link #check} compares with the committed file and fails with the lines removed and added;
 * with {@code -Dharaft.api.accept=true} it rewrites the file instead.
 */
public final class ApiSignature {

    /** The system property that makes {@link #check} rewrite the committed file. */
    public static final String ACCEPT_PROPERTY = "haraft.api.accept";

    private static final List<String> KINDS = List.of("type", "field", "constructor", "method");

    private ApiSignature() {
    }

    /**
     * The check of a module's test: its API (the given packages of the classes compiled with
     * {@code anchor}) against {@code api/<artifactId>.api} in the module's directory.
     *
     * @param artifactId the module, which names the file
     * @param acceptCommand the command that accepts a deliberate change, named in the failure
     * @param anchor a public class of the module
     * @param packages the API packages
     * @throws AssertionError when the API differs from the file, or no class of the module was found
     */
    public static void checkModule(String artifactId, String acceptCommand, Class<?> anchor, String... packages) {
        List<String> api = ofModule(anchor, packages);
        // the classes were found: an empty list must never be accepted as "no change"
        String anchorLine = anchor.getName() + " type: ";
        if (api.stream().noneMatch(l -> l.startsWith(anchorLine))) {
            throw new AssertionError("The API of " + artifactId + " does not list " + anchor.getName() + ": " + api);
        }
        check(Path.of(System.getProperty("basedir", "."), "api", artifactId + ".api"), api, acceptCommand);
    }

    /**
     * The API lines of every class compiled into the directory or jar that holds {@code anchor},
     * in the given packages (subpackages are not included unless listed).
     *
     * @param anchor a class of the module, to find and load its classes with
     * @param packages the API packages
     * @return the sorted lines
     */
    public static List<String> ofModule(Class<?> anchor, String... packages) {
        Path classes;
        try {
            classes = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        if (!Files.isDirectory(classes)) {
            throw new IllegalStateException("expected the module's compiled classes in a directory, got " + classes);
        }
        Set<String> wanted = Set.of(packages);
        List<Class<?>> types = new ArrayList<>();
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String relative = classes.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
                if (!relative.endsWith(".class") || relative.endsWith("module-info.class")
                        || relative.endsWith("package-info.class")) {
                    continue;
                }
                String name = relative.substring(0, relative.length() - ".class".length()).replace('/', '.');
                int dot = name.lastIndexOf('.');
                if (dot < 0 || !wanted.contains(name.substring(0, dot))) {
                    continue;
                }
                types.add(Class.forName(name, false, anchor.getClassLoader()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
        return of(types);
    }

    /**
     * The API lines of the given types; those that are not in the API contribute nothing.
     *
     * @param types the candidate types
     * @return the sorted lines
     */
    public static List<String> of(Collection<Class<?>> types) {
        List<String[]> rows = new ArrayList<>();
        for (Class<?> type : types) {
            if (!inApi(type)) {
                continue;
            }
            String owner = type.getName();
            // a final method of a type nobody can extend (a record's generated equals, say) is no
            // different to callers from one that is not final
            boolean subclassable = !Modifier.isFinal(type.getModifiers()) && !type.isRecord() && !type.isEnum();
            rows.add(new String[] {owner, "type", declaration(type)});
            for (Class<?> c = type; c != null && (c == type || !Modifier.isPublic(c.getModifiers()));
                    c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    if (visible(f.getModifiers()) && !f.isSynthetic()) {
                        rows.add(new String[] {owner, "field", modifiers(f.getModifiers(), false)
                                + name(f.getGenericType()) + " " + f.getName() + constantValue(f)});
                    }
                }
                if (c == type) {
                    for (Constructor<?> k : c.getDeclaredConstructors()) {
                        if (visible(k.getModifiers()) && !k.isSynthetic()) {
                            rows.add(new String[] {owner, "constructor", executable(k, null, type.getSimpleName(), true)});
                        }
                    }
                }
                for (Method m : c.getDeclaredMethods()) {
                    if (visible(m.getModifiers()) && !m.isSynthetic() && !m.isBridge()) {
                        rows.add(new String[] {owner, "method",
                                executable(m, name(m.getGenericReturnType()), m.getName(), subclassable)});
                    }
                }
            }
        }
        rows.sort(Comparator.<String[], String>comparing(r -> r[0])
                .thenComparingInt(r -> KINDS.indexOf(r[1]))
                .thenComparing(r -> r[2]));
        Set<String> lines = new LinkedHashSet<>();
        for (String[] r : rows) {
            lines.add(r[0] + " " + r[1] + ": " + r[2]);
        }
        return List.copyOf(lines);
    }

    /**
     * Compares the API with the committed file, or rewrites the file when the system property
     * {@value #ACCEPT_PROPERTY} is {@code true}.
     *
     * @param apiFile the committed file
     * @param actual the lines computed from the compiled classes
     * @param acceptCommand the command that accepts a deliberate change, named in the failure
     * @throws AssertionError when they differ, with the removed and added lines
     */
    public static void check(Path apiFile, List<String> actual, String acceptCommand) {
        check(apiFile, actual, acceptCommand, Boolean.getBoolean(ACCEPT_PROPERTY));
    }

    /**
     * {@link #check(Path, List, String)} with the choice to accept made by the caller.
     *
     * @param apiFile the committed file
     * @param actual the lines computed from the compiled classes
     * @param acceptCommand the command that accepts a deliberate change, named in the failure
     * @param accept rewrite the file with {@code actual} instead of comparing
     * @throws AssertionError when they differ and {@code accept} is false
     */
    static void check(Path apiFile, List<String> actual, String acceptCommand, boolean accept) {
        try {
            if (accept) {
                Files.createDirectories(apiFile.toAbsolutePath().getParent());
                Files.write(apiFile, actual, StandardCharsets.UTF_8);
                return;
            }
            if (!Files.exists(apiFile)) {
                throw new AssertionError("No API signature file " + apiFile + ". Create it with:\n  " + acceptCommand);
            }
            List<String> expected = Files.readAllLines(apiFile, StandardCharsets.UTF_8);
            String diff = diff(expected, actual);
            if (!diff.isEmpty()) {
                throw new AssertionError("The public API differs from " + apiFile
                        + " (- only in the file, + only in the compiled classes):\n" + diff
                        + "If this change is deliberate, accept it (the changed file is then a reviewed API change):\n  "
                        + acceptCommand);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The lines only in {@code expected} ("- ") and only in {@code actual} ("+ "), each group in
     * the order of the lines; empty when both hold the same lines.
     *
     * @param expected the committed lines
     * @param actual the computed lines
     * @return the difference, one line each, or an empty string
     */
    public static String diff(List<String> expected, List<String> actual) {
        Set<String> removed = new TreeSet<>(expected);
        removed.removeAll(actual);
        Set<String> added = new TreeSet<>(actual);
        added.removeAll(expected);
        if (removed.isEmpty() && added.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        removed.forEach(l -> out.append("- ").append(l).append('\n'));
        added.forEach(l -> out.append("+ ").append(l).append('\n'));
        return out.toString();
    }

    private static boolean inApi(Class<?> type) {
        if (type.isSynthetic() || type.isAnonymousClass() || type.isLocalClass()) {
            return false;
        }
        Class<?> outer = type.getDeclaringClass();
        return outer == null ? Modifier.isPublic(type.getModifiers()) : visible(type.getModifiers()) && inApi(outer);
    }

    private static boolean visible(int modifiers) {
        return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
    }

    private static String declaration(Class<?> type) {
        StringBuilder s = new StringBuilder();
        int mods = type.getModifiers() & (Modifier.PUBLIC | Modifier.PROTECTED | Modifier.STATIC | Modifier.FINAL
                | Modifier.ABSTRACT);
        String kind;
        if (type.isAnnotation()) {
            kind = "@interface";
            mods &= ~(Modifier.ABSTRACT | Modifier.STATIC);
        } else if (type.isInterface()) {
            kind = "interface";
            mods &= ~(Modifier.ABSTRACT | Modifier.STATIC);
        } else if (type.isEnum()) {
            kind = "enum"; // final or abstract as its constants have bodies or not: not the caller's concern
            mods &= ~(Modifier.ABSTRACT | Modifier.STATIC | Modifier.FINAL);
        } else if (type.isRecord()) {
            kind = "record";
            mods &= ~(Modifier.STATIC | Modifier.FINAL);
        } else {
            kind = "class";
        }
        s.append(modifiers(mods, false));
        // an enum whose constants have bodies is sealed by the compiler: not a choice of its author
        boolean sealed = type.isSealed() && !type.isEnum();
        if (sealed) {
            s.append("sealed ");
        }
        s.append(kind).append(' ').append(type.getSimpleName()).append(typeParameters(type.getTypeParameters()));
        Type superclass = type.getGenericSuperclass();
        if (superclass != null && superclass != Object.class && !type.isEnum() && !type.isRecord()) {
            s.append(" extends ").append(name(superclass));
        }
        Type[] interfaces = type.getGenericInterfaces();
        if (interfaces.length > 0) {
            s.append(type.isInterface() ? " extends " : " implements ").append(names(interfaces));
        }
        if (sealed) {
            s.append(" permits ").append(Arrays.stream(type.getPermittedSubclasses())
                    .map(Class::getName).sorted().collect(Collectors.joining(", ")));
        }
        return s.toString();
    }

    private static String executable(Executable e, String returnType, String name, boolean showFinal) {
        int mods = showFinal ? e.getModifiers() : e.getModifiers() & ~Modifier.FINAL;
        StringBuilder s = new StringBuilder(modifiers(mods, e instanceof Method m && m.isDefault()));
        String typeParameters = typeParameters(e.getTypeParameters());
        if (!typeParameters.isEmpty()) {
            s.append(typeParameters).append(' ');
        }
        if (returnType != null) {
            s.append(returnType).append(' ');
        }
        s.append(name).append('(');
        Type[] parameters = e.getGenericParameterTypes();
        for (int i = 0; i < parameters.length; i++) {
            if (i > 0) {
                s.append(", ");
            }
            String p = name(parameters[i]);
            s.append(e.isVarArgs() && i == parameters.length - 1 ? p.substring(0, p.length() - 2) + "..." : p);
        }
        s.append(')');
        Type[] exceptions = e.getGenericExceptionTypes();
        if (exceptions.length > 0) {
            s.append(" throws ").append(Arrays.stream(exceptions).map(ApiSignature::name).sorted()
                    .collect(Collectors.joining(", ")));
        }
        return s.toString();
    }

    /**
     * " = value" for a static final primitive or string, whose value callers' compiled code may
     * hold (javac inlines constants); empty for any other field.
     */
    private static String constantValue(Field f) {
        int mods = f.getModifiers();
        if (!Modifier.isStatic(mods) || !Modifier.isFinal(mods)
                || !(f.getType().isPrimitive() || f.getType() == String.class)) {
            return "";
        }
        try {
            f.setAccessible(true);
            Object value = f.get(null);
            return " = " + (value instanceof String text ? '"' + text + '"' : value);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Only the modifiers that matter to a caller or a subclass (not synchronized, native, ...). */
    private static String modifiers(int modifiers, boolean isDefault) {
        int kept = modifiers & (Modifier.PUBLIC | Modifier.PROTECTED | Modifier.STATIC | Modifier.FINAL
                | Modifier.ABSTRACT);
        String s = Modifier.toString(kept);
        if (isDefault) {
            s = s.isEmpty() ? "default" : s + " default";
        }
        return s.isEmpty() ? "" : s + " ";
    }

    private static String typeParameters(TypeVariable<?>[] variables) {
        if (variables.length == 0) {
            return "";
        }
        StringBuilder s = new StringBuilder("<");
        for (int i = 0; i < variables.length; i++) {
            if (i > 0) {
                s.append(", ");
            }
            s.append(variables[i].getName());
            Type[] bounds = variables[i].getBounds();
            if (!(bounds.length == 1 && bounds[0] == Object.class)) {
                s.append(" extends ").append(Arrays.stream(bounds).map(ApiSignature::name)
                        .collect(Collectors.joining(" & ")));
            }
        }
        return s.append('>').toString();
    }

    private static String names(Type[] types) {
        return Arrays.stream(types).map(ApiSignature::name).collect(Collectors.joining(", "));
    }

    private static String name(Type type) {
        if (type instanceof Class<?> c) {
            return c.isArray() ? name(c.getComponentType()) + "[]" : c.getName();
        }
        if (type instanceof ParameterizedType p) {
            String raw = p.getOwnerType() != null && p.getOwnerType() instanceof ParameterizedType
                    ? name(p.getOwnerType()) + "$" + ((Class<?>) p.getRawType()).getSimpleName()
                    : name(p.getRawType());
            return raw + "<" + names(p.getActualTypeArguments()) + ">";
        }
        if (type instanceof GenericArrayType a) {
            return name(a.getGenericComponentType()) + "[]";
        }
        if (type instanceof WildcardType w) {
            if (w.getLowerBounds().length > 0) {
                return "? super " + names(w.getLowerBounds());
            }
            Type[] upper = w.getUpperBounds();
            return upper.length == 0 || upper[0] == Object.class ? "?" : "? extends " + names(upper);
        }
        return type.getTypeName(); // a type variable
    }
}
