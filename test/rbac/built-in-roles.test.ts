import { describe, expect, it } from 'vitest';
import { BUILT_IN_ROLES, builtInRole, roleGuid, roleName } from '../../src/rbac/index.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('BUILT_IN_ROLES', () => {
  it('has unique, lower-case GUIDs and unique names', () => {
    const ids = BUILT_IN_ROLES.map((r) => r.id);
    for (const id of ids) expect(id).toMatch(GUID);
    expect(new Set(ids).size).toBe(ids.length);
    const names = BUILT_IN_ROLES.map((r) => r.name.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
  });

  it('carries the published GUIDs of the roles kiln relies on', () => {
    const expected: Record<string, string> = {
      Reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
      Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
      Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
      'Virtual Machine Contributor': '9980e02c-c2be-4d73-94e8-173b1dc7cf3c',
      'Compute Gallery Artifacts Publisher': '85a2d0d9-2eba-4c9c-b355-11c2cc0788ab',
      'Compute Gallery Image Reader': 'cf7c76d2-98a3-4358-a134-615aa78bf44d',
      'Managed Identity Operator': 'f1a07417-d97a-45cb-824c-7a7467783830',
      'Network Contributor': '4d97b98b-1d4f-4787-a291-c67834d212e7',
      'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
      'Key Vault Secrets Officer': 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
      'Container Apps Jobs Operator': 'b9a307c4-5aa3-4b52-ba60-2b17c136cd7b',
      AcrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
      AcrPush: '8311e382-0749-4cb8-b61a-304f252e45ec',
      'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
      'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
      'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
      'Storage Blob Data Reader': '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
      'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
      'Storage Queue Data Reader': '19e7f393-937e-4f77-808e-94535e297925',
      'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
      'Storage Table Data Reader': '76199698-9eea-4c19-bc75-cec21354c6b6',
    };
    for (const [name, id] of Object.entries(expected)) expect(builtInRole(name)?.id, name).toBe(id);
  });

  it('keeps the exact AcrPull action and the Contributor notActions that block role assignment', () => {
    expect(builtInRole('AcrPull')?.actions).toEqual(['Microsoft.ContainerRegistry/registries/pull/read']);
    expect(builtInRole('Contributor')?.notActions).toContain('Microsoft.Authorization/*/Write');
    expect(builtInRole('Key Vault Secrets User')?.actions).toEqual([]);
    expect(builtInRole('Reader')?.dataActions).toEqual([]);
  });

  it('is frozen, so callers cannot widen a role by accident', () => {
    const reader = builtInRole('Reader')!;
    expect(Object.isFrozen(BUILT_IN_ROLES)).toBe(true);
    expect(Object.isFrozen(reader)).toBe(true);
    expect(Object.isFrozen(reader.actions)).toBe(true);
  });
});

describe('builtInRole', () => {
  it('finds a role by GUID, full role definition id or display name, ignoring case', () => {
    expect(builtInRole('7F951DDA-4ED3-4680-A7CA-43FE172D538D')?.name).toBe('AcrPull');
    expect(
      builtInRole(
        '/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/9980e02c-c2be-4d73-94e8-173b1dc7cf3c',
      )?.name,
    ).toBe('Virtual Machine Contributor');
    expect(
      builtInRole('/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7')
        ?.name,
    ).toBe('Reader');
    expect(builtInRole('managed identity operator')?.id).toBe('f1a07417-d97a-45cb-824c-7a7467783830');
  });

  it('returns undefined for unknown roles', () => {
    expect(builtInRole('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(builtInRole('Global Administrator')).toBeUndefined();
  });
});

describe('roleName / roleGuid', () => {
  it('names built-in roles and reports the GUID of unknown ones', () => {
    expect(roleName('4633458b-17de-408a-b874-0445c86b69e6')).toBe('Key Vault Secrets User');
    expect(
      roleName('/providers/Microsoft.Authorization/roleDefinitions/DEADBEEF-0000-0000-0000-000000000000'),
    ).toBe('unknown role deadbeef-0000-0000-0000-000000000000');
  });

  it('takes the trailing segment of a role definition id', () => {
    expect(roleGuid('/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/ABC/')).toBe('abc');
    expect(roleGuid('abc')).toBe('abc');
  });
});
