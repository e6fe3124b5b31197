// Driving the connect wizards' frame as an admin would.

/**
 * Saves the PFX of the certificate generated for the plan under review —
 * Apply is offered only once it is saved — then applies. Resolves with the
 * download.
 */
export async function downloadPfxAndApply(page) {
  const [pfx] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download the PFX now' }).click(),
  ]);
  await page.getByRole('button', { name: 'Apply' }).click();
  return pfx;
}
