// Plain CommonJS, loaded as is by the schematics engine: no build step, nothing in dist/.
const { strings } = require('@angular-devkit/core');
const {
  apply,
  applyTemplates,
  chain,
  forEach,
  mergeWith,
  noop,
  SchematicsException,
  url,
} = require('@angular-devkit/schematics');
const path = require('node:path');
const pluralize = require('pluralize');

const APP_MODULE = 'src/app.module.ts';
const MIGRATIONS = 'migrations';
const USER_ENTITY = 'src/users/user.entity.ts';
/** PostgreSQL truncates identifiers at 63 bytes; the longest one made here adds 27 to the table. */
const MAX_TABLE_NAME = 36;

/**
 * `feature <name>`: entity, migration, DTOs, service, controller and module under src/<plural>/,
 * a unit spec beside the service, an e2e suite in test/, and the module in AppModule's imports.
 */
function feature(options) {
  const names = featureNames(options.name, options.singular);
  const generated = [];
  return (tree) => {
    const dir = tree.getDir(`src/${names.plural}`);
    if (dir.subfiles.length > 0 || dir.subdirs.length > 0) {
      throw new SchematicsException(`src/${names.plural}/ already exists.`);
    }
    // Features belong to users: the entity refers to theirs, the e2e suite logs them in.
    if (!tree.exists(USER_ENTITY)) throw new SchematicsException(`${USER_ENTITY} is missing.`);
    const templates = apply(url('./files'), [
      applyTemplates({ ...names, timestamp: migrationTimestamp(tree) }),
      forEach((entry) => {
        generated.push(entry.path);
        return entry;
      }),
    ]);
    return chain([
      mergeWith(templates),
      options.skipImport ? noop() : registerModule(names),
      format(generated, options.skipImport ? [] : [APP_MODULE]),
    ]);
  };
}

/** Every form of the name the templates use, from a plural or singular in any case. */
function featureNames(name, singularOption) {
  const words = kebabWords(name);
  const last = words.pop();
  // English rules apply to the last word: blog-post, blog-posts; audit-entry, audit-entries.
  const plural = [...words, pluralize.plural(last)].join('-');
  const singular = singularOption
    ? kebabWords(singularOption).join('-')
    : [...words, pluralize.singular(last)].join('-');
  if (singular === plural) {
    throw new SchematicsException(
      `The singular and the plural of "${name}" are the same; pass another --singular.`,
    );
  }
  const table = strings.underscore(plural);
  if (table.length > MAX_TABLE_NAME) {
    throw new SchematicsException(
      `"${table}" is too long for a table whose index names must fit in 63 bytes; use a shorter name.`,
    );
  }
  const humanPlural = plural.replace(/-/g, ' ');
  const humanSingular = singular.replace(/-/g, ' ');
  return {
    plural,
    singular,
    Plural: strings.classify(plural),
    Singular: strings.classify(singular),
    pluralCamel: strings.camelize(plural),
    singularCamel: strings.camelize(singular),
    SINGULAR: strings.underscore(singular).toUpperCase(),
    table,
    humanPlural,
    humanSingular,
    HumanPlural: strings.capitalize(humanPlural),
    HumanSingular: strings.capitalize(humanSingular),
  };
}

/** `blogPosts`, `BlogPosts`, `blog_posts`, `blog-posts` alike: ['blog', 'posts']. */
function kebabWords(name) {
  const kebab = strings.dasherize(String(name ?? '').trim());
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(kebab)) {
    throw new SchematicsException(
      `"${name}" is not a feature name: letters and digits, starting with a letter (projects, blog-posts).`,
    );
  }
  return kebab.split('-');
}

/** Now, or just after the newest migration if that one is dated later (clocks differ). */
function migrationTimestamp(tree) {
  const existing = tree
    .getDir(MIGRATIONS)
    .subfiles.map((file) => Number(/^(\d+)-/.exec(file)?.[1] ?? 0));
  return Math.max(Date.now(), ...existing.map((timestamp) => timestamp + 1));
}

/**
 * Adds the import and appends the module to the imports array AppModule.forRoot returns (after
 * the feature modules already there). The TypeScript parser finds the spots and the edit is two
 * insertions, so comments and the rest of the file stay as they are.
 */
function registerModule(names) {
  return (tree) => {
    const ts = require('typescript');
    const source = tree.readText(APP_MODULE);
    const file = ts.createSourceFile(APP_MODULE, source, ts.ScriptTarget.Latest, true);
    const moduleClass = `${names.Plural}Module`;
    const specifier = `./${names.plural}/${names.plural}.module`;
    if (new RegExp(`\\b${moduleClass}\\b`).test(source)) {
      throw new SchematicsException(`${APP_MODULE} already refers to ${moduleClass}.`);
    }

    const array = forRootImports(ts, file);
    if (!array) {
      throw new SchematicsException(
        `No "imports: [...]" in AppModule.forRoot() of ${APP_MODULE}; nothing was generated.`,
      );
    }
    const recorder = tree.beginUpdate(APP_MODULE);
    recorder.insertLeft(...arrayInsertion(source, array, moduleClass));
    recorder.insertLeft(...importInsertion(ts, file, moduleClass, specifier));
    tree.commitUpdate(recorder);
  };
}

function forRootImports(ts, file) {
  let found;
  const visit = (node) => {
    if (found) return;
    if (
      ts.isPropertyAssignment(node) &&
      node.name.getText(file) === 'imports' &&
      ts.isArrayLiteralExpression(node.initializer) &&
      insideMethod(ts, node, 'forRoot')
    ) {
      found = node.initializer;
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

function insideMethod(ts, node, name) {
  for (let parent = node.parent; parent; parent = parent.parent) {
    if (ts.isMethodDeclaration(parent)) return parent.name.getText(node.getSourceFile()) === name;
  }
  return false;
}

/** `[position, text]` that appends the module as the array's last element. */
function arrayInsertion(source, array, moduleClass) {
  const elements = array.elements;
  if (elements.length === 0) return [array.getEnd() - 1, moduleClass];
  const last = elements[elements.length - 1];
  const lineStart = source.lastIndexOf('\n', last.getStart()) + 1;
  const indent = /^\s*/.exec(source.slice(lineStart))[0];
  if (!elements.hasTrailingComma) return [last.getEnd(), `, ${moduleClass}`];
  const comma = source.indexOf(',', last.getEnd());
  // On the next line, below a comment that trails the last element; prettier lays out the rest.
  const lineEnd = source.indexOf('\n', comma);
  if (lineEnd !== -1 && lineEnd < array.getEnd()) {
    return [lineEnd + 1, `${indent}${moduleClass},\n`];
  }
  return [comma + 1, ` ${moduleClass},`];
}

/** `[position, text]` that adds the import among the relative ones, in path order. */
function importInsertion(ts, file, moduleClass, specifier) {
  const statement = `import { ${moduleClass} } from '${specifier}';\n`;
  const imports = file.statements.filter((node) => ts.isImportDeclaration(node));
  const next = imports.find((node) => {
    const from = node.moduleSpecifier.text;
    return from.startsWith('.') && from > specifier;
  });
  if (next) return [next.getStart(file), statement];
  const last = imports[imports.length - 1];
  return last ? [last.getEnd() + 1, statement] : [0, statement];
}

/**
 * Prettier with the repository's own configuration, so long names wrap as `npm run lint`
 * expects; the templates are formatted already for names of ordinary length.
 */
function format(generated, updated) {
  return async (tree) => {
    const prettier = require('prettier');
    for (const file of [...generated, ...updated]) {
      const relative = file.replace(/^\//, '');
      const filepath = path.resolve(relative);
      const config = (await prettier.resolveConfig(filepath)) ?? {};
      const text = tree.readText(relative);
      const formatted = await prettier.format(text, { ...config, filepath });
      if (formatted !== text) tree.overwrite(relative, formatted);
    }
  };
}

module.exports = { feature };
