// Lint rules. The block for src/orchestrations and src/domain enforces S7 (docs/design.md):
// orchestrators are replayed, and the pure decisions of src/domain run inside them, so neither may
// read wall-clock time, randomness, timers, the network or the environment.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nondeterministic = [
  {
    selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
    message: 'S7: use context.df.currentUtcDateTime, not Date.now().',
  },
  {
    selector: "NewExpression[callee.name='Date'][arguments.length=0]",
    message: 'S7: use context.df.currentUtcDateTime, not new Date().',
  },
  {
    selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
    message: 'S7: randomness breaks replay; pass values in through an activity.',
  },
  {
    selector: 'CallExpression[callee.name=/^(setTimeout|setInterval|setImmediate)$/]',
    message: 'S7: use context.df.createTimer for waiting.',
  },
  { selector: "CallExpression[callee.name='fetch']", message: 'S7: I/O belongs in an activity.' },
  {
    selector: "MemberExpression[object.name='process'][property.name='env']",
    message: 'S7: settings reach orchestrators through their input.',
  },
  {
    selector: "MemberExpression[object.name='performance'][property.name='now']",
    message: 'S7: use context.df.currentUtcDateTime.',
  },
  {
    selector: "CallExpression[callee.name='randomUUID'], CallExpression[callee.property.name='randomUUID']",
    message: 'S7: use context.df.newGuid().',
  },
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.tools/**',
      'coverage/**',
      'test/infra/**',
      'test/scripts/**',
      'packer/**',
      'infra/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        performance: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/orchestrations/**/*.ts', 'src/domain/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', ...nondeterministic],
      // Types are no I/O: the domain shapes what the clients read.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // Metrics too: an orchestrator replays, and would count again (src/telemetry).
              group: [
                'node:*',
                'http',
                'https',
                'fs',
                'crypto',
                '*/clients/*',
                '*/telemetry/*',
                '@azure/*',
                '@octokit/*',
                '@opentelemetry/*',
              ],
              message: 'S7: orchestrators do no I/O; call an activity.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
