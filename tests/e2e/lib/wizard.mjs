// Driving the connect wizards' frame as an admin would.

/**
 * Fills F1 (`profile`, azure-backup unless named, with its Azure roles on
 * `subscription` when it has some; a certificate generated under
 * `password`; an optional description) and opens the review; resolves when
 * the plan is shown.
 */
export async function reviewNewApplication(page, { name, password, profile = 'azure-backup', subscription, description }) {
  await page.getByLabel('Application name').fill(name);
  if (description) await page.getByLabel('Description (optional)').fill(description);
  await page.getByLabel('Permission profile').selectOption(profile);
  if (subscription) {
    const sub = page.getByLabel('Subscription for the Azure roles');
    await sub.waitFor({ timeout: 60_000 });
    await sub.selectOption(subscription);
  }
  await page.getByLabel('PFX password').fill(password);
  await page.getByLabel('Confirm password').fill(password);
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('#plan-steps li').first().waitFor({ timeout: 120_000 });
}

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
