# ruff: noqa: E501 - the articles are prose: one paragraph or list item per line, as staff type them.
"""Demo articles about the account: password, two-factor authentication, deleting the account,
contacting support, and the error pages (site not loading, page not found, access denied)."""

from __future__ import annotations

from refill.help import topics
from refill.help.models import Article

from .article import DemoArticle

C = Article.Category

ARTICLES: tuple[DemoArticle, ...] = (
    DemoArticle(
        topics.PASSWORD_RESET,
        C.ACCOUNT,
        "reset-password",
        "How to reset your password",
        "如何重置密码",
        """If you forgot your password, you can choose a new one with a link we email you.

## Reset it
1. Open the [Log in](/accounts/login/) page and press **Forgot your password?**, or go straight to [Password Reset](/accounts/password/reset/).
2. Enter the email address of your account and press **Reset My Password**.
3. Open the email from us and follow the link in it. **The link works for 1 hour and only once.**
4. Type your new password twice and confirm.
5. Log in with the new password.

## No email arrived?
- Wait a few minutes and check your spam or junk folder.
- Check that you typed the address you registered with. For your privacy, the page looks the same whether or not an account uses that address.
- If the link has expired or was already used, start again from step 1.

## Registered with a phone number?
On the log in page you can also ask for a sign-in code (**Send me a sign-in code**) and log in with the code we send. Once logged in, set a new password in your account settings.

## Keep your account safe
Use a password you do not use anywhere else. If you think someone else knows your password, change it straight away.""",
        """如果您忘记了密码，可以通过我们发送到您邮箱的链接设置新密码。

## 重置密码
1. 打开[登录](/accounts/login/)页面并点击 **忘记密码？**，或直接打开[密码重置](/accounts/password/reset/)页面。
2. 输入账户的电子邮箱地址，点击 **重置我的密码**。
3. 打开我们发送的邮件，点击其中的链接。**链接 1 小时内有效，且只能使用一次。**
4. 输入两次新密码并确认。
5. 使用新密码登录。

## 没有收到邮件？
- 请等待几分钟，并检查垃圾邮件文件夹。
- 请确认输入的是注册时使用的邮箱地址。为保护隐私，无论该邮箱是否已注册，页面显示的内容都相同。
- 如果链接已过期或已被使用，请从第 1 步重新开始。

## 使用手机号码注册？
您也可以在登录页面申请登录验证码（**发送登录代码给我**），用收到的验证码登录，然后在账户设置中设置新密码。

## 保护账户安全
请使用在其他地方没有用过的密码。如果您怀疑密码已被他人知道，请立即修改。""",
        keywords_en="forgot password, reset, cannot log in, login, sign in",
        keywords_zh_hans="忘记密码, 重置密码, 登录不了, 无法登录, 找回密码",
    ),
    DemoArticle(
        topics.SITE_NOT_LOADING,
        C.ACCOUNT,
        "site-not-loading",
        "The site is not loading",
        "网站无法打开",
        """If pages do not open or stop half way, try these steps in order.

## Check your connection
- Open another website. If nothing opens, the problem is your connection.
- If your plan has ended, mobile data does not work during the grace period: connect to **Wi-Fi** and renew.
- Switch between Wi-Fi and mobile data, or turn flight mode on and off again.

## Check your browser
1. Reload the page.
2. Open the site in a private window, or in another browser.
3. Turn off VPNs, proxies and content blockers for this site, then try again.
4. Clear this site's cookies and cached files, then log in again.
5. Check that your phone's date and time are set automatically: a wrong clock can make secure pages fail.

## Still not working?
- Wait a few minutes and try again: the service may be busy or being updated.
- Write down what you see (any error message and the time) to tell us.

## Was I charged?
If the page stopped while you were paying, do not pay again straight away. Open [Orders](/orders/) once the site works: a payment is never taken twice for the same order, and an unfinished payment is checked with your bank and shown there.""",
        """如果页面打不开或加载到一半停止，请按顺序尝试以下步骤。

## 检查网络连接
- 打开其他网站试试。如果都打不开，说明是网络连接的问题。
- 如果您的套餐已到期，宽限期内无法使用移动数据：请连接 **Wi-Fi** 后续费。
- 在 Wi-Fi 和移动数据之间切换，或打开再关闭飞行模式。

## 检查浏览器
1. 刷新页面。
2. 在无痕（隐私）窗口或其他浏览器中打开本网站。
3. 对本网站关闭 VPN、代理和广告拦截插件后重试。
4. 清除本网站的 Cookie 和缓存后重新登录。
5. 确认手机的日期和时间设置为自动：时间不准确会导致安全网页无法打开。

## 仍然无法打开？
- 请等待几分钟后重试：服务可能正忙或正在更新。
- 记下您看到的内容（错误提示和时间），以便告诉我们。

## 我被扣款了吗？
如果付款过程中页面中断，请不要马上再次付款。网站恢复后请打开[订单](/orders/)查看：同一订单绝不会重复扣款，未完成的付款会与银行核对后显示在那里。""",
        keywords_en="site down, not loading, blank page, slow, error",
        keywords_zh_hans="网站打不开, 无法加载, 白屏, 很慢",
    ),
    DemoArticle(
        topics.PAGE_NOT_FOUND,
        C.ACCOUNT,
        "page-not-found",
        "The page was not found",
        "找不到页面",
        """"Page not found" means there is nothing at this address for you. Usually one of these is the reason:

- **The address is mistyped or cut off.** If you copied it from an email or a message, copy the whole link again.
- **The link is old.** Pages such as an order or an eSIM code can be replaced; start again from [My lines](/lines/) or [Orders](/orders/).
- **It belongs to another account.** A number, order or receipt is shown only to the account that owns it. If you have more than one account, log out and log in with the other one.
- **A help article was moved.** Search the [help centre](/help/) for what you need.

From [My lines](/lines/) you can reach everything about your numbers: renewing, auto-renew, your eSIM, your wallet and your orders.""",
        """"找不到页面"表示这个地址下没有您可以查看的内容。通常是以下原因之一：

- **地址输入有误或不完整。** 如果是从邮件或消息中复制的，请重新复制完整的链接。
- **链接已过期。** 订单、eSIM 激活码等页面可能已被更新，请从[我的号码](/lines/)或[订单](/orders/)重新进入。
- **内容属于其他账户。** 号码、订单和收据只对其所属账户显示。如果您有多个账户，请退出后用另一个账户登录。
- **帮助文章已移动。** 请在[帮助中心](/help/)搜索您需要的内容。

在[我的号码](/lines/)中可以找到与您号码相关的所有功能：续费、自动续费、eSIM、钱包和订单。""",
        keywords_en="404, not found, broken link",
        keywords_zh_hans="404, 找不到, 链接失效",
    ),
    DemoArticle(
        topics.ACCESS_DENIED,
        C.ACCOUNT,
        "access-denied",
        "You do not have access to this page",
        "您无权访问此页面",
        """"Access denied" means you are logged in, but this page is not for your account.

## Common reasons
- **You are logged in with another account.** Log out, then [log in](/accounts/login/) with the account that owns the number.
- **The page is for staff or shops.** The back office and the shop counter are only for the operator's staff and agents. Customers manage everything from [My lines](/lines/).
- **A form expired.** If you left a page open for a long time, or logged in again in another tab, reload the page and send the form again.
- **Cookies are blocked.** The site needs cookies to keep you logged in and to protect your forms. Allow cookies for this site and try again.

## Staff and agents
Staff and shop agents must also confirm their login with their authenticator app. If you are staff and still see this page, your role does not include this task: ask an administrator.""",
        """"拒绝访问"表示您已登录，但此页面不对您的账户开放。

## 常见原因
- **您登录的是另一个账户。** 请退出登录，再用拥有该号码的账户[登录](/accounts/login/)。
- **该页面仅供工作人员或门店使用。** 管理后台和门店柜台只对运营商的工作人员和代理开放。用户可以在[我的号码](/lines/)中管理所有功能。
- **表单已过期。** 如果页面打开了很长时间，或在其他标签页中重新登录过，请刷新页面后重新提交表单。
- **Cookie 被禁用。** 本网站需要 Cookie 来保持登录状态并保护您提交的表单。请允许本网站使用 Cookie 后重试。

## 工作人员和代理
工作人员和门店代理登录时还需要通过身份验证器 App 进行确认。如果您是工作人员但仍看到此页面，说明您的角色不包含此项操作，请联系管理员。""",
        keywords_en="403, forbidden, access denied, not allowed",
        keywords_zh_hans="403, 拒绝访问, 没有权限",
    ),
    DemoArticle(
        topics.TWO_FACTOR,
        C.ACCOUNT,
        "two-factor-authentication",
        "Keeping your account safe: two-factor authentication",
        "保护账户安全：两步验证",
        """Your account holds your numbers, your wallet and your saved cards. Protect it with a strong password and a second step at log in.

## A strong password
- Use a password you use nowhere else. A long phrase is easier to remember than a short jumble.
- Change it under Settings → **Change password** ([open](/accounts/password/change/)). We ask for your current password first.
- Forgot it? See [How to reset your password](/help/reset-password/).

## Turn on two-factor authentication
With two-factor authentication, logging in needs your password and a 6-digit code from an authenticator app on your phone (for example Google Authenticator, Microsoft Authenticator or 1Password).
1. Open [Two-factor authentication](/accounts/2fa/). We may ask for your password again.
2. Under the authenticator app, choose to activate it.
3. Scan the QR code with the app (or type the key shown under it), then type the 6-digit code the app shows.
4. Save the **recovery codes** somewhere safe, away from your phone. Each one lets you in once if you lose the phone.

From then on, after your password we ask for the code from the app.

## Lost your phone?
Log in with one of your recovery codes, then set up the app again on the new phone. With no recovery code left, [contact support](/support/new/): we check that the account is yours before helping.

## Signs that something is wrong
- An email about a login or change you did not make.
- Orders you did not place under [Orders](/orders/).

Change your password at once, turn on two-factor authentication, and [contact support](/support/new/). We never ask for your password or codes by email or phone.

## Sessions end by themselves
For your safety you are logged out after 30 minutes without activity, and 12 hours after you logged in.""",
        """您的账户中有您的号码、钱包和已保存的银行卡。请设置安全的密码，并在登录时增加第二步验证。

## 设置安全的密码
- 使用在其他地方没有用过的密码。较长的短语比短而杂乱的密码更容易记住。
- 在“设置 → **修改密码**”中修改（[打开](/accounts/password/change/)），需要先输入当前密码。
- 忘记密码？请参阅[如何重置密码](/help/reset-password/)。

## 开启两步验证
开启两步验证后，登录时除了密码，还需要输入手机上身份验证器 App（例如 Google Authenticator、Microsoft Authenticator 或 1Password）显示的 6 位验证码。
1. 打开[两步验证](/accounts/2fa/)页面。我们可能会请您再次输入密码。
2. 在身份验证器 App 一项中选择启用。
3. 用 App 扫描二维码（或输入二维码下方显示的密钥），然后输入 App 显示的 6 位验证码。
4. 把 **恢复码** 保存在手机以外的安全地方。手机丢失时，每个恢复码可以登录一次。

此后，每次输入密码后，我们都会要求您输入 App 中的验证码。

## 手机丢了？
请用一个恢复码登录，然后在新手机上重新设置身份验证器 App。如果恢复码都已用完，请[联系客服](/support/new/)：我们会先核实账户属于您，再提供帮助。

## 账户可能有异常的迹象
- 收到您没有进行过的登录或更改的邮件。
- [订单](/orders/)中有您没有下过的订单。

请立即修改密码、开启两步验证，并[联系客服](/support/new/)。我们绝不会通过邮件或电话索要您的密码或验证码。

## 登录会自动过期
为了您的安全，30 分钟没有操作，或登录满 12 小时后，系统会自动退出登录。""",
        keywords_en="security, 2fa, two factor, two-step, authenticator, otp, verification code, hacked, secure, recovery codes, change password",
        keywords_zh_hans="安全, 两步验证, 双重验证, 二次验证, 身份验证器, 验证码, 被盗, 账号安全, 恢复码, 修改密码",
    ),
    DemoArticle(
        topics.DELETE_ACCOUNT,
        C.ACCOUNT,
        "delete-your-account",
        "Deleting your account and downloading your data",
        "删除账户与下载您的数据",
        """You can download everything we hold about you, and delete your account yourself.

## Download your data
1. Open Settings and press **Privacy: download my data, delete my account** ([open](/preferences/privacy/)).
2. Press **Download my data**. You get one file with your profile and logins, lines, plans, orders, payments, saved cards (last four digits only), wallet statement, redeemed refill PINs, messages we sent you and your eSIM profiles.

## Before you delete
Deleting is not possible yet, and the page says why, while:
- a line still has a paid period that has not ended (wait until it ends, or [contact support](/support/new/) to give it up);
- your wallet is not empty: spend it, or ask for a refund ([Refunds](/help/refunds/));
- a payment is still being confirmed with your bank.

To keep your number with another operator, move it first: see [Moving your number to another operator](/help/move-your-number-away/).

## Delete your account
1. On the same page, under **Delete my account**, type **Your password**.
2. Tick **I understand that this cannot be undone.**
3. Press **Delete my account**. You are logged out.

## What is erased, and what is kept
- **Erased**: your name, email addresses, phone numbers, shop PIN and saved cards; the messages we sent you are blanked; your logins are closed.
- **Auto-renew** is turned off. Your lines stay until their service ends, then lapse as usual, and the number is later released to someone else.
- **Kept, without your name**: orders, payments, receipts and the wallet records, because the law requires us to keep financial records.

This cannot be undone: a deleted account cannot be brought back.""",
        """您可以下载我们保存的关于您的所有数据，也可以自行删除账户。

## 下载您的数据
1. 打开“设置”，点击 **隐私：下载我的数据、删除我的账户**（[打开](/preferences/privacy/)）。
2. 点击 **下载我的数据**。您会得到一个文件，其中包含您的资料和登录方式、号码、套餐、订单、付款、已保存的银行卡（仅后四位）、钱包明细、已兑换的充值卡、我们发送给您的消息以及您的 eSIM 信息。

## 删除之前
以下情况下暂时无法删除账户，页面会说明原因：
- 某个号码还有尚未结束的已付费周期（请等待周期结束，或[联系客服](/support/new/)放弃该周期）；
- 钱包中还有余额：请用完余额，或申请退款（[退款](/help/refunds/)）；
- 还有付款正在与银行确认。

如果想把号码转到其他运营商继续使用，请先办理转出：请参阅[携号转出](/help/move-your-number-away/)。

## 删除账户
1. 在同一页面的 **删除我的账户** 下输入 **您的密码**。
2. 勾选 **我了解此操作无法撤销。**
3. 点击 **删除我的账户**，系统会退出您的登录。

## 哪些会被删除，哪些会保留
- **删除**：您的姓名、邮箱地址、手机号码、门店 PIN 和已保存的银行卡；我们发送给您的消息内容会被清空；您的登录方式会被关闭。
- **自动续费** 会被关闭。您的号码会保留到服务期结束，然后按通常的流程到期，号码之后会被回收并可能分配给他人。
- **保留但不含您的姓名**：订单、付款、收据和钱包记录，因为法律要求我们保存财务记录。

此操作无法撤销：账户删除后无法恢复。""",
        keywords_en="delete account, close account, remove account, erase, gdpr, privacy, my data, export, download data, cancel account",
        keywords_zh_hans="删除账户, 关闭账户, 销号, 不用了, 隐私, 个人数据, 下载数据, 导出",
    ),
    DemoArticle(
        topics.CONTACT_SUPPORT,
        C.ACCOUNT,
        "contact-support",
        "How to contact support",
        "如何联系客服",
        """Our support team answers by email, in your language. Most questions are answered in this help centre first: try the search box.

## Send a request
1. Press **Contact support** at the bottom of any help article, or open [Contact support](/support/new/).
2. Choose what it is about and, if you are logged in, the number. Not logged in? Give your name and email.
3. Write what happened: what you did, what you saw, and when. You can attach up to 3 files (PNG, JPEG, PDF or text, up to 5 MB each): a screenshot helps.
4. Press send. You get a reference such as SR-7K3M9Q2D on the page and by email.

## Follow your request
- Logged in: see all your requests under [My support requests](/support/). Answer there, or press "My problem is solved".
- Not logged in: the email has a private link to read and answer your request. Keep it to yourself.
- When we answer, we email you (and text you a link, if you allow texts).

## What to tell us
- The phone number concerned, and the receipt number for a payment (see [Receipts](/help/receipts-and-credit-notes/)).
- For an eSIM: the phone model and software version.
- Never send us a full card number, a password, or an unused refill PIN.""",
        """我们的客服团队会用您的语言通过邮件答复。大多数问题可以先在帮助中心找到答案，请试试搜索框。

## 提交请求
1. 在任何帮助文章底部点击 **联系客服**，或直接打开[联系客服](/support/new/)。
2. 选择问题类型；如果已登录，请选择相关号码。未登录时请填写姓名和邮箱。
3. 写下发生了什么：您做了什么、看到了什么、什么时候发生的。最多可以附加 3 个文件（PNG、JPEG、PDF 或文本，每个不超过 5 MB），附上截图会更有帮助。
4. 点击发送。页面和邮件中会显示请求编号，例如 SR-7K3M9Q2D。

## 查看请求进度
- 已登录：在[我的支持请求](/support/)中查看您的所有请求，可以在那里回复，或点击“我的问题已解决”。
- 未登录：邮件中有一个查看和回复请求的专用链接，请不要转发给他人。
- 我们回复时会发邮件通知您（如果您允许接收短信，也会发送附有链接的短信）。

## 请告诉我们
- 相关的手机号码；涉及付款时请提供收据编号（请参阅[收据](/help/receipts-and-credit-notes/)）。
- eSIM 问题：手机型号和系统版本。
- 请不要发送完整的银行卡号、密码或尚未兑换的充值卡密码。""",
        keywords_en="contact, support, help, customer service, talk to someone, agent, phone number, email, complaint, ticket",
        keywords_zh_hans="联系客服, 客服, 人工, 投诉, 帮助, 客服电话, 邮件, 工单",
    ),
)
