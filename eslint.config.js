import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // The type fixtures are compiled by test/types/consumer.test.ts, misuses and all.
  { ignores: ['dist/', 'coverage/', 'reports/', '.stryker-tmp/', 'docs/', 'test/types/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // It asks for `!`, which the strict config forbids: keep `as` for the rare checked narrowing.
      '@typescript-eslint/non-nullable-type-assertion-style': 'off',
      // `const { omitted, ...rest } = value` is how a field is left out.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
      },
    },
  },
);
